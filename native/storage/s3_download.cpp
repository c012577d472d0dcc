#include "storage/s3_download.hpp"

#include <algorithm>
#include <cstring>

namespace cachekit::storage {

S3RangeSource::S3RangeSource(S3Client &client, std::string object_name, uint64_t size, uint64_t range_size,
                             int concurrency)
    : client_(client), object_name_(std::move(object_name)), size_(size),
      range_size_(std::max<uint64_t>(1, range_size)), concurrency_(static_cast<size_t>(std::max(1, concurrency))) {}

S3RangeSource::~S3RangeSource() {
  cancel_ = true;
  window_.clear(); // each Range joins its thread
}

void S3RangeSource::start_more() {
  while (window_.size() < concurrency_ && next_offset_ < size_) {
    auto range = std::make_unique<Range>();
    range->first = next_offset_;
    range->length = std::min(range_size_, size_ - next_offset_);
    next_offset_ += range->length;
    range->data = PageBuffer(range->length);
    Range *r = range.get();
    r->thread = std::jthread([this, r] {
      try {
        client_.get_range(
            object_name_, r->first, r->first + r->length - 1,
            [r](std::span<const std::byte> bytes) {
              std::lock_guard lock(r->mutex);
              r->data.append(bytes); // get_range never delivers more than asked
              r->arrived.notify_one();
            },
            &cancel_);
        std::lock_guard lock(r->mutex);
        r->done = true;
      } catch (...) {
        std::lock_guard lock(r->mutex);
        r->error = std::current_exception();
      }
      r->arrived.notify_one();
    });
    window_.push_back(std::move(range));
  }
}

size_t S3RangeSource::read(std::span<std::byte> out) {
  start_more();
  if (window_.empty() || out.empty()) return 0;
  Range &r = *window_.front();
  size_t n = 0;
  {
    std::unique_lock lock(r.mutex);
    r.arrived.wait(lock, [&] { return r.data.size() > consumed_ || r.done || r.error; });
    if (r.error) std::rethrow_exception(r.error);
    n = std::min(out.size(), r.data.size() - consumed_);
    std::memcpy(out.data(), r.data.data() + consumed_, n);
    consumed_ += n;
  }
  if (consumed_ == r.length) {
    window_.pop_front(); // joins a finished thread and frees the range
    consumed_ = 0;
    start_more();
  }
  return n;
}

} // namespace cachekit::storage
