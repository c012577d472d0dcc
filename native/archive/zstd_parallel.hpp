#pragma once
// zstd compression on several cores with pzstd's framing (zstd_framing.hpp): the tar stream
// is cut into 8 MiB pieces, each compressed as an independent frame by a worker thread and
// written out strictly in order. Plain `zstd -d` reads the result as usual; `pzstd -d` (and
// a future parallel restore) can decompress the frames side by side.
#include "archive/zstd_stream.hpp"
#include "util/byte_queue.hpp"
#include "util/byte_stream.hpp"
#include "util/task_pool.hpp"

#include <cstddef>
#include <deque>
#include <future>
#include <memory>

namespace cachekit::archive {

class ParallelZstdCompressSink : public ByteSink {
public:
  ParallelZstdCompressSink(ByteSink &downstream, CompressionSettings settings);
  ~ParallelZstdCompressSink() override;
  void write(std::span<const std::byte> data) override;
  void close() override; // writes the last frame and closes the downstream sink

private:
  void submit_piece();
  void emit_oldest();

  ByteSink &downstream_;
  const CompressionSettings settings_;
  ChunkPool inputs_;
  ChunkPool outputs_;
  std::unique_ptr<TaskPool> pool_; // none: compress on the calling thread
  std::deque<std::future<Chunk>> in_flight_;
  Chunk piece_;
  size_t piece_size_ = 0;
  size_t piece_limit_; // grows to a full frame; see the constructor
  bool any_frame_ = false;
};

} // namespace cachekit::archive
