#pragma once
// The parallel ranged download shared by the S3 and GitHub readers: up to `concurrency` ranged
// GETs in flight, handed to the reader strictly in order while they are still arriving; memory
// is bounded by concurrency × range size. When the size is not known up front, the first range
// starts alone and the others start as soon as it reports the size. How a range is fetched —
// and resumed from its last received byte after a dropped connection — is the backend's `fetch`.
#include "storage/s3_buffer.hpp"
#include "util/byte_stream.hpp"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <thread>

namespace cachekit::storage {

class ParallelRangeSource : public ByteSource {
public:
  using Sink = std::function<void(std::span<const std::byte>)>;
  using OnTotal = std::function<void(uint64_t total)>;
  // Streams bytes [first, last] into `sink` (never more; fewer only when the object ends
  // first). `first_request` is set for the range at offset 0; `on_total` may report the
  // object's size. Must give up soon once `*cancel` is set.
  using Fetch = std::function<void(uint64_t first, uint64_t last, bool first_request, const Sink &sink,
                                   const OnTotal &on_total, const std::atomic<bool> *cancel)>;

  // `size`: the object's size, or nullopt to learn it from the first range's `on_total`.
  ParallelRangeSource(Fetch fetch, std::optional<uint64_t> size, uint64_t range_size, int concurrency);
  ~ParallelRangeSource() override; // cancels and joins whatever is still in flight
  ParallelRangeSource(const ParallelRangeSource &) = delete;
  ParallelRangeSource &operator=(const ParallelRangeSource &) = delete;

  size_t read(std::span<std::byte> out) override;

private:
  struct Range {
    uint64_t first = 0;
    uint64_t length = 0; // of a first range started before the size is known: an upper bound
    PageBuffer data;
    bool done = false;
    std::exception_ptr error;
    std::mutex mutex;
    std::condition_variable arrived;
    std::jthread thread; // last member: joined before the rest is destroyed
  };
  void start(uint64_t first, uint64_t length);
  void start_more();
  std::optional<uint64_t> known_size();
  std::optional<uint64_t> wait_for_size();

  Fetch fetch_;
  uint64_t range_size_;
  size_t concurrency_;
  uint64_t next_offset_ = 0;
  size_t consumed_ = 0; // of the front range
  std::atomic<bool> cancel_{false};

  std::mutex size_mutex_;
  std::condition_variable size_known_;
  std::optional<uint64_t> size_;

  std::deque<std::unique_ptr<Range>> window_; // last member: its threads use the others
};

} // namespace cachekit::storage
