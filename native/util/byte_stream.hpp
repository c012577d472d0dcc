#pragma once
// The two stream ends every pipeline stage speaks: archives are written to a ByteSink and
// read from a ByteSource, so no stage needs a temp file.
#include <cstddef>
#include <memory>
#include <span>
#include <vector>

namespace cachekit {

class ByteSink {
public:
  virtual ~ByteSink() = default;
  virtual void write(std::span<const std::byte> data) = 0;
  // Called once after the last write; flushes buffered data downstream.
  virtual void close() {}
};

class ByteSource {
public:
  virtual ~ByteSource() = default;
  // Reads up to out.size() bytes; returns 0 only at the end of the stream.
  virtual size_t read(std::span<std::byte> out) = 0;
};

// A stream handed over in blocks the producer already holds, so the consumer reads them
// in place instead of copying into its own buffer.
class BlockSource {
public:
  virtual ~BlockSource() = default;
  // The next block; empty only at the end of the stream. Valid until the next call.
  virtual std::span<const std::byte> next_block() = 0;
  // Keeps the block last returned alive for as long as the result is held, so a consumer
  // can hand it on instead of copying it; null when this source cannot.
  virtual std::shared_ptr<const void> retain_block() { return nullptr; }
};

// Presents a ByteSource as blocks (one copy into an owned buffer).
class ByteSourceBlocks : public BlockSource {
public:
  explicit ByteSourceBlocks(ByteSource &source, size_t block_size = size_t{256} * 1024)
      : source_(source), buffer_(block_size) {}
  std::span<const std::byte> next_block() override {
    return std::span<const std::byte>(buffer_.data(), source_.read(buffer_));
  }

private:
  ByteSource &source_;
  std::vector<std::byte> buffer_;
};

} // namespace cachekit
