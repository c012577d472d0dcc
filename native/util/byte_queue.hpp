#pragma once
// A bounded queue of byte chunks between two threads of a pipeline. Bounded, so memory
// stays flat whatever the cache size; failure-aware, so an error in one stage stops the
// others instead of leaving them blocked.
#include "util/byte_stream.hpp"

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <vector>

namespace cachekit {

using Chunk = std::vector<std::byte>;

class ChunkQueue {
public:
  explicit ChunkQueue(size_t max_chunks) : max_chunks_(max_chunks) {}

  // Blocks while the queue is full. Throws the failure if the queue was failed.
  void push(Chunk chunk);
  // Marks the end of the stream: pop() returns nullopt once the queue drains.
  void close();
  // Stops both sides; push() and pop() rethrow `error`.
  void fail(const std::exception_ptr &error);
  // Blocks until a chunk is available; nullopt at the end of the stream.
  std::optional<Chunk> pop();
  bool failed() const;

private:
  mutable std::mutex mutex_;
  std::condition_variable not_full_;
  std::condition_variable not_empty_;
  std::deque<Chunk> chunks_;
  size_t max_chunks_;
  bool closed_ = false;
  std::exception_ptr error_;
};

// Buffers writes into chunks of `chunk_size` and pushes them into a queue.
class QueueSink : public ByteSink {
public:
  QueueSink(ChunkQueue &queue, size_t chunk_size) : queue_(queue), chunk_size_(chunk_size) {}
  void write(std::span<const std::byte> data) override;
  void close() override;

private:
  ChunkQueue &queue_;
  size_t chunk_size_;
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

private:
  std::mutex mutex_;
  std::vector<Chunk> free_;
  size_t chunk_size_;
  size_t max_kept_;
};

// Reads a queue as a continuous byte stream, or block by block without copying.
class QueueSource : public ByteSource, public BlockSource {
public:
  explicit QueueSource(ChunkQueue &queue, ChunkPool *pool = nullptr) : queue_(queue), pool_(pool) {}
  size_t read(std::span<std::byte> out) override;
  std::span<const std::byte> next_block() override;

private:
  void recycle_current();
  ChunkQueue &queue_;
  ChunkPool *pool_;
  Chunk current_;
  size_t offset_ = 0;
  bool eof_ = false;
};

} // namespace cachekit
