#include "storage/s3_buffer.hpp"

#include "util/error.hpp"

#include <algorithm>
#include <cstring>
#include <sys/mman.h>
#include <utility>

namespace cachekit::storage {

PageBuffer::PageBuffer(size_t capacity) : capacity_(capacity) {
  if (capacity == 0) return;
  void *p = ::mmap(nullptr, capacity, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw_errno("cannot allocate a transfer buffer");
  data_ = static_cast<std::byte *>(p);
}

PageBuffer::~PageBuffer() {
  release();
}

PageBuffer::PageBuffer(PageBuffer &&other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)),
      capacity_(std::exchange(other.capacity_, 0)) {}

PageBuffer &PageBuffer::operator=(PageBuffer &&other) noexcept {
  if (this != &other) {
    release();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    capacity_ = std::exchange(other.capacity_, 0);
  }
  return *this;
}

void PageBuffer::release() noexcept {
  if (data_) ::munmap(data_, capacity_);
  data_ = nullptr;
  size_ = capacity_ = 0;
}

size_t PageBuffer::append(std::span<const std::byte> bytes) {
  const size_t n = std::min(bytes.size(), capacity_ - size_);
  if (n) std::memcpy(data_ + size_, bytes.data(), n);
  size_ += n;
  return n;
}

} // namespace cachekit::storage
