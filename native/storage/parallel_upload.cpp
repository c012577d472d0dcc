#include "storage/parallel_upload.hpp"

#include <algorithm>

namespace cachekit::storage {

ParallelUploader::ParallelUploader(int concurrency, Send send)
    : concurrency_(std::max(1, concurrency)), send_(std::move(send)) {}

ParallelUploader::~ParallelUploader() {
  stop();
}

void ParallelUploader::stop() noexcept {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    jobs_.clear();
  }
  cancel_ = true;
  changed_.notify_all();
  workers_.clear(); // joins
}

void ParallelUploader::submit(PageBuffer part) {
  std::unique_lock lock(mutex_);
  // Bounded memory: at most `concurrency` parts queued or in flight.
  changed_.wait(lock, [&] { return failure_ || static_cast<int>(jobs_.size()) + busy_ < concurrency_; });
  if (failure_) std::rethrow_exception(failure_);
  jobs_.push_back(Job{submitted_++, std::move(part)});
  // A new worker only when the idle ones cannot take the queue: small uploads use few threads.
  const int idle = static_cast<int>(workers_.size()) - busy_;
  if (static_cast<int>(workers_.size()) < concurrency_ && idle < static_cast<int>(jobs_.size()))
    workers_.emplace_back([this] { worker(); });
  lock.unlock();
  changed_.notify_all();
}

void ParallelUploader::worker() {
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mutex_);
      changed_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
      ++busy_;
    }
    std::exception_ptr error;
    std::string receipt;
    try {
      receipt = send_(job.index, job.data.bytes(), &cancel_);
    } catch (...) {
      error = std::current_exception();
    }
    job.data = {}; // free the part before waking the producer
    {
      std::lock_guard lock(mutex_);
      --busy_;
      if (error) {
        if (!failure_) failure_ = error;
        cancel_ = true; // the upload is lost: stop the other parts early
      } else {
        if (receipts_.size() <= job.index) receipts_.resize(job.index + 1);
        receipts_[job.index] = std::move(receipt);
      }
    }
    changed_.notify_all();
  }
}

std::vector<std::string> ParallelUploader::finish() {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return failure_ || (jobs_.empty() && busy_ == 0); });
  if (failure_) std::rethrow_exception(failure_);
  return receipts_;
}

} // namespace cachekit::storage
