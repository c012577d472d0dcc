#pragma once
// The bounded pool of upload workers shared by the S3 multipart and GitHub Put Block writers:
// parts go out in parallel on up to `concurrency` threads, started only as the queue needs
// them; the producer blocks while `concurrency` parts are queued or in flight (memory bound);
// the first failure cancels the other requests and is rethrown to the producer.
// What a part is sent to — and how it is retried — is the backend's `send`.
#include "storage/s3_buffer.hpp"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

namespace cachekit::storage {

class ParallelUploader {
public:
  // Uploads part `index` (0-based, in submission order) and returns its receipt (an S3 ETag;
  // empty when the backend needs none). Must give up soon once `*cancel` is set.
  using Send =
      std::function<std::string(uint64_t index, std::span<const std::byte> data, const std::atomic<bool> *cancel)>;

  ParallelUploader(int concurrency, Send send);
  ~ParallelUploader(); // stop()
  ParallelUploader(const ParallelUploader &) = delete;
  ParallelUploader &operator=(const ParallelUploader &) = delete;

  // Queues the next part; waits while the pool is full and rethrows an earlier failure.
  void submit(PageBuffer part);
  // Waits for every queued part; rethrows the first failure. Returns the receipts by index.
  std::vector<std::string> finish();
  // Drops queued parts, cancels those in flight and joins the workers. Idempotent; an owner
  // calls it before destroying what `send` uses.
  void stop() noexcept;

  uint64_t submitted() const { return submitted_; }
  int concurrency() const { return concurrency_; }

private:
  struct Job {
    uint64_t index = 0;
    PageBuffer data;
  };
  void worker();

  int concurrency_;
  Send send_;
  uint64_t submitted_ = 0;

  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Job> jobs_;
  int busy_ = 0;
  bool stopping_ = false;
  std::exception_ptr failure_;
  std::vector<std::string> receipts_;
  std::atomic<bool> cancel_{false};
  std::vector<std::jthread> workers_; // last member: joined before the rest is destroyed
};

} // namespace cachekit::storage
