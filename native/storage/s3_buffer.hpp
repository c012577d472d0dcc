#pragma once
// A fixed-capacity byte buffer on its own anonymous mapping, for multipart parts and ranged
// reads. Such buffers are large (16 MiB) and short-lived, and are filled and freed on
// different threads; malloc keeps freed blocks of that size in per-thread arenas, which
// inflated peak RSS by tens of MiB. A mapping is returned to the system on destruction, and
// its pages are only touched as bytes are written.
#include <cstddef>
#include <span>

namespace cachekit::storage {

class PageBuffer {
public:
  PageBuffer() = default;
  explicit PageBuffer(size_t capacity);
  ~PageBuffer();
  PageBuffer(PageBuffer &&other) noexcept;
  PageBuffer &operator=(PageBuffer &&other) noexcept;
  PageBuffer(const PageBuffer &) = delete;
  PageBuffer &operator=(const PageBuffer &) = delete;

  std::byte *data() { return data_; }
  const std::byte *data() const { return data_; }
  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }
  bool empty() const { return size_ == 0; }
  // Appends what fits; returns the number of bytes taken.
  size_t append(std::span<const std::byte> bytes);
  std::span<const std::byte> bytes() const { return {data_, size_}; }

private:
  void release() noexcept;
  std::byte *data_ = nullptr;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

} // namespace cachekit::storage
