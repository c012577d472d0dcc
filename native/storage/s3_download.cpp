#include "storage/s3_download.hpp"

namespace cachekit::storage {

// The object name lives in the fetch function, so the base's threads never outlive it.
S3RangeSource::S3RangeSource(S3Client &client, std::string object_name, uint64_t size, uint64_t range_size,
                             int concurrency)
    : ParallelRangeSource([&client, name = std::move(object_name)](
                              uint64_t first, uint64_t last, bool /*first_request*/, const Sink &sink,
                              const OnTotal & /*on_total*/,
                              const std::atomic<bool> *cancel) { client.get_range(name, first, last, sink, cancel); },
                          size, range_size, concurrency) {}

} // namespace cachekit::storage
