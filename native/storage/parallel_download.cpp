#include "storage/parallel_download.hpp"

#include <algorithm>
#include <cstring>

namespace cachekit::storage {

ParallelRangeSource::ParallelRangeSource(Fetch fetch, std::optional<uint64_t> size, uint64_t range_size,
                                         int concurrency)
    : fetch_(std::move(fetch)), range_size_(std::max<uint64_t>(1, range_size)),
      concurrency_(static_cast<size_t>(std::max(1, concurrency))), size_(size) {}

ParallelRangeSource::~ParallelRangeSource() {
  cancel_ = true;
  window_.clear(); // each Range joins its thread
}

void ParallelRangeSource::start(uint64_t first, uint64_t length) {
  auto range = std::make_unique<Range>();
  range->first = first;
  range->length = length;
  range->data = PageBuffer(length);
  Range *r = range.get();
  const bool first_request = first == 0;
  r->thread = std::jthread([this, r, first_request] {
    try {
      fetch_(
          r->first, r->first + r->length - 1, first_request,
          [r](std::span<const std::byte> bytes) {
            std::lock_guard lock(r->mutex);
            r->data.append(bytes); // fetch never delivers more than asked
            r->arrived.notify_one();
          },
          [this, r, first_request](uint64_t total) {
            if (!first_request) return;
            {
              std::lock_guard lock(r->mutex);
              r->length = std::min(r->length, total);
            }
            {
              std::lock_guard lock(size_mutex_);
              size_ = total;
            }
            size_known_.notify_all();
          },
          &cancel_);
      std::lock_guard lock(r->mutex);
      r->done = true;
    } catch (...) {
      std::lock_guard lock(r->mutex);
      r->error = std::current_exception();
    }
    r->arrived.notify_one();
    { std::lock_guard lock(size_mutex_); } // a reader waiting for the size must see the end too
    size_known_.notify_all();
  });
  next_offset_ = first + length;
  window_.push_back(std::move(range));
}

std::optional<uint64_t> ParallelRangeSource::known_size() {
  std::lock_guard lock(size_mutex_);
  return size_;
}

std::optional<uint64_t> ParallelRangeSource::wait_for_size() {
  Range &first = *window_.front();
  std::unique_lock lock(size_mutex_);
  size_known_.wait(lock, [&] {
    if (size_) return true;
    std::lock_guard range_lock(first.mutex);
    return first.done || static_cast<bool>(first.error);
  });
  return size_;
}

void ParallelRangeSource::start_more() {
  const std::optional<uint64_t> size = known_size();
  if (!size) {
    // Size unknown: the first range goes alone and tells it.
    if (next_offset_ == 0 && window_.empty()) start(0, range_size_);
    return;
  }
  while (window_.size() < concurrency_ && next_offset_ < *size)
    start(next_offset_, std::min(range_size_, *size - next_offset_));
}

size_t ParallelRangeSource::read(std::span<std::byte> out) {
  start_more();
  if (window_.empty() || out.empty()) return 0;
  if (next_offset_ == range_size_ && window_.size() == 1 && window_.front()->first == 0) {
    // Only the first range runs: start the others as soon as it tells the object's size.
    if (wait_for_size()) start_more();
  }
  Range &r = *window_.front();
  size_t n = 0;
  bool finished = false;
  {
    std::unique_lock lock(r.mutex);
    r.arrived.wait(lock, [&] { return r.data.size() > consumed_ || r.done || r.error; });
    if (r.error) std::rethrow_exception(r.error);
    n = std::min(out.size(), r.data.size() - consumed_);
    std::memcpy(out.data(), r.data.data() + consumed_, n);
    consumed_ += n;
    finished = r.done && consumed_ == r.data.size();
  }
  if (finished) {
    window_.pop_front(); // joins a finished thread and frees the range
    consumed_ = 0;
    start_more();
    if (n == 0) return read(out);
  }
  return n;
}

} // namespace cachekit::storage
