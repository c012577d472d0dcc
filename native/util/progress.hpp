#pragma once
// Progress lines for long transfers: at most one every `interval`, with bytes, % (when the
// total is known) and MB/s. Thread-safe: several transfer threads may add to one counter.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

namespace cachekit {

class Progress {
public:
  Progress(std::string phase, uint64_t total_bytes, std::chrono::milliseconds interval = std::chrono::seconds(5));
  void add(uint64_t bytes);
  uint64_t bytes() const { return bytes_.load(); }
  double elapsed_seconds() const;

private:
  std::string phase_;
  uint64_t total_;
  std::chrono::milliseconds interval_;
  std::chrono::steady_clock::time_point start_;
  std::atomic<uint64_t> bytes_{0};
  std::mutex mutex_;
  std::chrono::steady_clock::time_point last_report_;
};

} // namespace cachekit
