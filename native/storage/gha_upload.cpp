#include "storage/gha_upload.hpp"

#include "util/error.hpp"
#include "util/log.hpp"
#include "util/strings.hpp"

#include <fmt/format.h>

namespace cachekit::storage {

GhaEntryWriter::GhaEntryWriter(gha::TwirpClient &twirp, gha::BlobClient blob, std::string key, std::string version,
                               uint64_t block_size, int concurrency)
    : twirp_(twirp), blob_(std::move(blob)), key_(std::move(key)), version_(std::move(version)),
      block_size_(block_size), concurrency_(std::max(1, concurrency)) {}

GhaEntryWriter::~GhaEntryWriter() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    jobs_.clear();
  }
  cancel_ = true;
  changed_.notify_all();
  workers_.clear(); // joins
}

void GhaEntryWriter::write(std::span<const std::byte> data) {
  if (closed_) throw OperationError("GitHub cache writer: write after close");
  while (!data.empty()) {
    // A full block goes out only once more bytes follow: an archive of exactly one block
    // is still a single Put Blob.
    if (pending_.capacity() != 0 && pending_.size() == pending_.capacity()) submit(std::move(pending_));
    if (pending_.capacity() == 0) pending_ = PageBuffer(block_size_);
    const size_t n = pending_.append(data);
    data = data.subspan(n);
    size_ += n;
  }
}

void GhaEntryWriter::submit(PageBuffer block) {
  std::unique_lock lock(mutex_);
  // Bounded memory: at most `concurrency` blocks queued or in flight.
  changed_.wait(lock, [&] { return failure_ || static_cast<int>(jobs_.size()) + busy_ < concurrency_; });
  if (failure_) std::rethrow_exception(failure_);
  jobs_.push_back(Job{blocks_++, std::move(block)});
  const int idle = static_cast<int>(workers_.size()) - busy_;
  if (static_cast<int>(workers_.size()) < concurrency_ && idle < static_cast<int>(jobs_.size()))
    workers_.emplace_back([this] { worker(); });
  lock.unlock();
  changed_.notify_all();
}

void GhaEntryWriter::worker() {
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
    try {
      blob_.put_block(gha::block_id(uuid_, job.index), job.data.bytes(), job.index == 0, &cancel_);
    } catch (...) {
      error = std::current_exception();
    }
    job.data = {}; // free the block before waking the producer
    {
      std::lock_guard lock(mutex_);
      --busy_;
      if (error && !failure_) {
        failure_ = error;
        cancel_ = true;
      }
    }
    changed_.notify_all();
  }
}

void GhaEntryWriter::close() {
  if (closed_) return;
  closed_ = true;
  if (blocks_ == 0) {
    blob_.put_blob(pending_.bytes());
    pending_ = PageBuffer();
    uploaded_ = true;
    log::debug("uploaded {} to {} in one request", human_bytes(size_), blob_.describe());
    return;
  }
  if (!pending_.empty()) submit(std::move(pending_));
  pending_ = PageBuffer();
  {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return failure_ || (jobs_.empty() && busy_ == 0); });
    if (failure_) std::rethrow_exception(failure_);
  }
  std::vector<std::string> ids;
  for (uint64_t i = 0; i < blocks_; ++i)
    ids.push_back(gha::block_id(uuid_, i));
  blob_.put_block_list(ids);
  uploaded_ = true;
  log::debug("uploaded {} to {} in {} blocks", human_bytes(size_), blob_.describe(), blocks_);
}

bool GhaEntryWriter::commit(const EntryManifest &manifest) {
  if (!uploaded_) throw OperationError("GitHub cache writer: commit before the archive was uploaded");
  if (manifest.size != size_)
    throw OperationError(
        fmt::format("GitHub cache writer: {} bytes uploaded but the manifest says {}", size_, manifest.size));
  return twirp_.finalize(key_, version_, size_);
}

} // namespace cachekit::storage
