#pragma once
// Reads one S3 object as a stream: a ParallelRangeSource whose ranges are S3 ranged GETs, each
// resumed from its last received byte after a dropped or stalled connection
// (S3Client::get_range). The size comes from the manifest, so up to `concurrency` ranges start
// at once; memory is bounded by concurrency × range size and the reader consumes the first
// range while it is still arriving.
#include "storage/parallel_download.hpp"
#include "storage/s3_client.hpp"

#include <string>

namespace cachekit::storage {

class S3RangeSource : public ParallelRangeSource {
public:
  S3RangeSource(S3Client &client, std::string object_name, uint64_t size, uint64_t range_size, int concurrency);
};

} // namespace cachekit::storage
