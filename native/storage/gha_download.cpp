#include "storage/gha_download.hpp"

namespace cachekit::storage {

// The blob client lives in the fetch function, so the base's threads never outlive it. `mutable`:
// get_range is not const, but is safe to call from several threads at once.
GhaRangeSource::GhaRangeSource(gha::BlobClient blob, uint64_t range_size, int concurrency)
    : ParallelRangeSource(
          [blob = std::move(blob)](uint64_t first, uint64_t last, bool first_request, const Sink &sink,
                                   const OnTotal &on_total, const std::atomic<bool> *cancel) mutable {
            blob.get_range(first, last, first_request, sink, on_total, cancel);
          },
          std::nullopt, range_size, concurrency) {}

} // namespace cachekit::storage
