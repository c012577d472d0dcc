#pragma once
// A bounded queue between two threads of a pipeline. Bounded, so memory stays flat whatever
// the cache size; failure-aware, so an error in one stage stops the others instead of
// leaving them blocked.
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>

namespace cachekit {

template <typename T> class BoundedQueue {
public:
  explicit BoundedQueue(size_t max_items) : max_items_(max_items) {}

  // Blocks while the queue is full. Throws the failure if the queue was failed.
  void push(T item) {
    std::unique_lock lock(mutex_);
    not_full_.wait(lock, [&] { return error_ || items_.size() < max_items_; });
    if (error_) std::rethrow_exception(error_);
    items_.push_back(std::move(item));
    not_empty_.notify_one();
  }

  // Marks the end of the stream: pop() returns nullopt once the queue drains.
  void close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    not_empty_.notify_all();
  }

  // Stops both sides; push() and pop() rethrow `error` (the first one given).
  void fail(const std::exception_ptr &error) {
    std::lock_guard lock(mutex_);
    if (!error_) error_ = error;
    not_full_.notify_all();
    not_empty_.notify_all();
  }

  // Blocks until an item is available; nullopt at the end of the stream.
  std::optional<T> pop() {
    std::unique_lock lock(mutex_);
    not_empty_.wait(lock, [&] { return error_ || !items_.empty() || closed_; });
    if (error_) std::rethrow_exception(error_);
    if (items_.empty()) return std::nullopt;
    T item = std::move(items_.front());
    items_.pop_front();
    not_full_.notify_one();
    return item;
  }

  bool failed() const {
    std::lock_guard lock(mutex_);
    return static_cast<bool>(error_);
  }

private:
  mutable std::mutex mutex_;
  std::condition_variable not_full_;
  std::condition_variable not_empty_;
  std::deque<T> items_;
  size_t max_items_;
  bool closed_ = false;
  std::exception_ptr error_;
};

} // namespace cachekit
