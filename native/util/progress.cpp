#include "util/progress.hpp"

#include "util/log.hpp"
#include "util/strings.hpp"

namespace cachekit {

Progress::Progress(std::string phase, uint64_t total_bytes, std::chrono::milliseconds interval)
    : phase_(std::move(phase)), total_(total_bytes), interval_(interval), start_(std::chrono::steady_clock::now()),
      last_report_(start_) {}

double Progress::elapsed_seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void Progress::add(uint64_t bytes) {
  const auto total = bytes_.fetch_add(bytes) + bytes;
  const auto now = std::chrono::steady_clock::now();
  std::unique_lock lock(mutex_, std::try_to_lock);
  if (!lock.owns_lock() || now - last_report_ < interval_) return;
  last_report_ = now;
  const double secs = std::chrono::duration<double>(now - start_).count();
  if (total_ > 0)
    log::info("{}: {} of {} ({:.0f}%), {}", phase_, human_bytes(total), human_bytes(total_),
              100.0 * static_cast<double>(total) / static_cast<double>(total_), rate_mbs(total, secs));
  else
    log::info("{}: {}, {}", phase_, human_bytes(total), rate_mbs(total, secs));
}

} // namespace cachekit
