#include "util/large_allocation.hpp"

#include <cstdint>
#include <new>
#include <sys/mman.h>

namespace cachekit {
namespace {

constexpr size_t kHugePage = size_t{1} << 21;

size_t round_up(size_t bytes) {
  return (bytes + kHugePage - 1) & ~(kHugePage - 1);
}

} // namespace

void *allocate_large(size_t bytes) {
  const size_t length = round_up(bytes);
  // Over-map by one huge page, then cut the unaligned head and the tail away.
  void *raw = mmap(nullptr, length + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) throw std::bad_alloc();
  auto *start = static_cast<char *>(raw);
  const size_t misalignment = reinterpret_cast<uintptr_t>(start) & (kHugePage - 1);
  const size_t head = misalignment == 0 ? 0 : kHugePage - misalignment;
  char *aligned = start + head;
  if (head > 0) munmap(start, head);
  munmap(aligned + length, kHugePage - head); // the tail: never empty, head < kHugePage
  madvise(aligned, length, MADV_HUGEPAGE);    // advice only: where THP is off, 4 KiB pages it is
  return aligned;
}

void release_large(void *p, size_t bytes) noexcept {
  if (p != nullptr) munmap(p, round_up(bytes));
}

} // namespace cachekit
