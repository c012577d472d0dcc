#pragma once
// Byte chunks between the threads of a pipeline: the queue, a sink that fills it, a pool
// that recycles buffers, and a source that reads it back.
#include "util/bounded_queue.hpp"
#include "util/byte_stream.hpp"
#include "util/large_allocation.hpp"

#include <cstddef>
#include <memory>
#include <mutex>
#include <new>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

namespace cachekit {

// Leaves new bytes uninitialised on resize: a chunk is always filled before it is read,
// and zero-filling megabytes per chunk showed up as a tenth of a restore's CPU. Chunks of
// megabytes come from allocate_large (huge pages: far fewer page faults).
template <typename T> struct UninitializedAllocator : std::allocator<T> {
  template <typename U> struct rebind { using other = UninitializedAllocator<U>; };
  using std::allocator<T>::allocator;
  T *allocate(size_t n) {
    if (n * sizeof(T) >= kLargeAllocationThreshold) return static_cast<T *>(allocate_large(n * sizeof(T)));
    return std::allocator<T>::allocate(n);
  }
  void deallocate(T *p, size_t n) noexcept {
    if (n * sizeof(T) >= kLargeAllocationThreshold)
      release_large(p, n * sizeof(T));
    else
      std::allocator<T>::deallocate(p, n);
  }
  template <typename U> void construct(U *p) noexcept(std::is_nothrow_default_constructible_v<U>) {
    ::new (static_cast<void *>(p)) U;
  }
  template <typename U, typename... Args> void construct(U *p, Args &&...args) {
    ::new (static_cast<void *>(p)) U(std::forward<Args>(args)...);
  }
};

using Chunk = std::vector<std::byte, UninitializedAllocator<std::byte>>;

using ChunkQueue = BoundedQueue<Chunk>;

class ChunkPool;

// Buffers writes into chunks of `chunk_size` and pushes them into a queue. With a pool, the
// chunks come from it (the consumer gives them back): fresh megabytes per chunk cost a page
// fault per 4 KiB, a tenth of a save's system time on a virtual machine.
class QueueSink : public ByteSink {
public:
  QueueSink(ChunkQueue &queue, size_t chunk_size, ChunkPool *pool = nullptr)
      : queue_(queue), chunk_size_(chunk_size), pool_(pool) {}
  void write(std::span<const std::byte> data) override;
  void close() override;

private:
  ChunkQueue &queue_;
  size_t chunk_size_;
  ChunkPool *pool_;
  Chunk pending_;
};

// Recycles chunk buffers between a consumer and a producer, so a pipeline does not pay
// for allocating and zeroing a fresh megabyte per chunk.
class ChunkPool {
public:
  explicit ChunkPool(size_t chunk_size, size_t max_kept = 64) : chunk_size_(chunk_size), max_kept_(max_kept) {}
  // A chunk of size chunk_size (contents unspecified).
  Chunk take();
  void give_back(Chunk chunk);
  size_t chunk_size() const { return chunk_size_; }

private:
  std::mutex mutex_;
  std::vector<Chunk> free_;
  size_t chunk_size_;
  size_t max_kept_;
};

// A chunk that goes back to its pool when the last holder lets go of it.
class ChunkLease {
public:
  ChunkLease(Chunk chunk, ChunkPool *pool) : chunk_(std::move(chunk)), pool_(pool) {}
  ~ChunkLease() {
    if (pool_) pool_->give_back(std::move(chunk_));
  }
  ChunkLease(const ChunkLease &) = delete;
  ChunkLease &operator=(const ChunkLease &) = delete;
  const Chunk &chunk() const { return chunk_; }
  // For a producer still filling the chunk while slices of the filled part are being read
  // (never resized through this, so those slices stay valid).
  std::byte *writable_data() { return chunk_.data(); }

private:
  Chunk chunk_;
  ChunkPool *pool_;
};

// A piece of a pooled chunk. The chunk goes back to its pool when the last slice of it (and
// whatever a consumer retained) is gone, so a producer can hand a buffer on piece by piece
// while it is still filling the rest of it.
struct Slice {
  std::shared_ptr<ChunkLease> chunk;
  size_t offset = 0;
  size_t size = 0;
  std::span<const std::byte> bytes() const { return std::span<const std::byte>(chunk->chunk()).subspan(offset, size); }
};

using SliceQueue = BoundedQueue<Slice>;

// Reads a slice queue block by block, in place; a retained block keeps its whole chunk.
class SliceSource : public BlockSource {
public:
  explicit SliceSource(SliceQueue &queue) : queue_(queue) {}
  std::span<const std::byte> next_block() override;
  std::shared_ptr<const void> retain_block() override { return current_.chunk; }

private:
  SliceQueue &queue_;
  Slice current_;
  bool eof_ = false;
};

// Reads a queue as a continuous byte stream, or block by block without copying; blocks can
// be retained past the next call (retain_block), the chunk is recycled after the last holder.
class QueueSource : public ByteSource, public BlockSource {
public:
  explicit QueueSource(ChunkQueue &queue, ChunkPool *pool = nullptr) : queue_(queue), pool_(pool) {}
  size_t read(std::span<std::byte> out) override;
  std::span<const std::byte> next_block() override;
  std::shared_ptr<const void> retain_block() override { return current_; }

private:
  bool advance(); // false at the end of the stream
  size_t current_size() const { return current_ ? current_->chunk().size() : 0; }
  ChunkQueue &queue_;
  ChunkPool *pool_;
  std::shared_ptr<ChunkLease> current_;
  size_t offset_ = 0;
  bool eof_ = false;
};

} // namespace cachekit
