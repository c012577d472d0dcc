#pragma once
// Reads one S3 object as a stream: up to `concurrency` ranged GETs in flight, handed to the
// reader strictly in order, each resumed from its last received byte after a dropped or
// stalled connection (S3Client::get_range). Memory is bounded by concurrency × range size;
// the reader consumes the first range while it is still arriving.
#include "storage/s3_buffer.hpp"
#include "storage/s3_client.hpp"
#include "util/byte_stream.hpp"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace cachekit::storage {

class S3RangeSource : public ByteSource {
public:
  S3RangeSource(S3Client &client, std::string object_name, uint64_t size, uint64_t range_size, int concurrency);
  ~S3RangeSource() override; // cancels and joins whatever is still in flight

  size_t read(std::span<std::byte> out) override;

private:
  struct Range {
    uint64_t first = 0;
    uint64_t length = 0;
    PageBuffer data;
    bool done = false;
    std::exception_ptr error;
    std::mutex mutex;
    std::condition_variable arrived;
    std::jthread thread; // last member: joined before the rest is destroyed
  };
  void start_more();

  S3Client &client_;
  std::string object_name_;
  uint64_t size_;
  uint64_t range_size_;
  size_t concurrency_;
  uint64_t next_offset_ = 0;
  size_t consumed_ = 0; // of the front range
  std::deque<std::unique_ptr<Range>> window_;
  std::atomic<bool> cancel_{false};
};

} // namespace cachekit::storage
