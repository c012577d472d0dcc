#pragma once
// Reads a GitHub cache blob as a stream: a ParallelRangeSource whose ranges are BlobClient
// ranged GETs, each resumed from its last received byte after a dropped or stalled connection
// (BlobClient::get_range). The service does not say how big the blob is, so the first range
// starts alone and its Content-Range tells the size; the other ranges start as soon as its
// headers arrive. Memory is bounded by concurrency × range size.
#include "storage/gha_blob.hpp"
#include "storage/parallel_download.hpp"

namespace cachekit::storage {

class GhaRangeSource : public ParallelRangeSource {
public:
  GhaRangeSource(gha::BlobClient blob, uint64_t range_size, int concurrency);
};

} // namespace cachekit::storage
