#pragma once
// Memory for big pipeline buffers (chunks of megabytes), mapped in 2 MiB-aligned pieces
// and marked for transparent huge pages. On virtual machines each 4 KiB first-touch page
// fault can cost 10-15 us; a save touched ~15k of them (0.2 CPU-s of gobuild's 2.7). With
// huge pages the same buffers take a few dozen faults. Where THP is off this is plain mmap.
#include <cstddef>

namespace cachekit {

// Below this size allocations go to the ordinary heap.
inline constexpr size_t kLargeAllocationThreshold = size_t{1} << 21;

// Throws std::bad_alloc when the mapping fails.
void *allocate_large(size_t bytes);
// `bytes` must be the size passed to allocate_large.
void release_large(void *p, size_t bytes) noexcept;

} // namespace cachekit
