#pragma once
// Reads a GitHub cache blob as a stream: ranged GETs, up to `concurrency` in flight, handed to
// the reader strictly in order, each resumed from its last received byte after a dropped or
// stalled connection (BlobClient::get_range). The service does not say how big the blob is,
// so the first range starts alone and its Content-Range tells the size; the other ranges start
// as soon as its headers arrive. Memory is bounded by concurrency × range size.
#include "storage/gha_blob.hpp"
#include "storage/s3_buffer.hpp"
#include "util/byte_stream.hpp"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

namespace cachekit::storage {

class GhaRangeSource : public ByteSource {
public:
  GhaRangeSource(gha::BlobClient blob, uint64_t range_size, int concurrency);
  ~GhaRangeSource() override; // cancels and joins whatever is still in flight

  size_t read(std::span<std::byte> out) override;

private:
  struct Range {
    uint64_t first = 0;
    uint64_t length = 0; // of the first range: an upper bound until the size is known
    PageBuffer data;
    bool done = false;
    std::exception_ptr error;
    std::mutex mutex;
    std::condition_variable arrived;
    std::jthread thread; // last member: joined before the rest is destroyed
  };
  void start(uint64_t first, uint64_t length);
  void start_more();
  std::optional<uint64_t> wait_for_size();

  gha::BlobClient blob_;
  uint64_t range_size_;
  size_t concurrency_;
  uint64_t next_offset_ = 0;
  size_t consumed_ = 0; // of the front range
  std::deque<std::unique_ptr<Range>> window_;
  std::atomic<bool> cancel_{false};

  std::mutex size_mutex_;
  std::condition_variable size_known_;
  std::optional<uint64_t> size_; // from the first range's Content-Range
};

} // namespace cachekit::storage
