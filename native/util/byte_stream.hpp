#pragma once
// The two stream ends every pipeline stage speaks: archives are written to a ByteSink and
// read from a ByteSource, so no stage needs a temp file.
#include <cstddef>
#include <span>

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

} // namespace cachekit
