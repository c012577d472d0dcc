#include "util/byte_queue.hpp"

#include <algorithm>
#include <cstring>

namespace cachekit {

void QueueSink::write(std::span<const std::byte> data) {
  while (!data.empty()) {
    if (pending_.capacity() < chunk_size_) pending_.reserve(chunk_size_);
    const size_t n = std::min(data.size(), chunk_size_ - pending_.size());
    pending_.insert(pending_.end(), data.begin(), data.begin() + static_cast<std::ptrdiff_t>(n));
    data = data.subspan(n);
    if (pending_.size() == chunk_size_) {
      queue_.push(std::move(pending_));
      pending_ = Chunk();
    }
  }
}

void QueueSink::close() {
  if (!pending_.empty()) queue_.push(std::move(pending_));
  pending_ = Chunk();
  queue_.close();
}

Chunk ChunkPool::take() {
  {
    std::lock_guard lock(mutex_);
    if (!free_.empty()) {
      Chunk c = std::move(free_.back());
      free_.pop_back();
      c.resize(chunk_size_);
      return c;
    }
  }
  return Chunk(chunk_size_);
}

void ChunkPool::give_back(Chunk chunk) {
  if (chunk.capacity() < chunk_size_) return;
  std::lock_guard lock(mutex_);
  if (free_.size() < max_kept_) free_.push_back(std::move(chunk));
}

void QueueSource::recycle_current() {
  if (pool_ && current_.capacity() > 0) pool_->give_back(std::move(current_));
  current_ = Chunk();
  offset_ = 0;
}

std::span<const std::byte> QueueSource::next_block() {
  if (offset_ < current_.size()) { // finish a chunk that read() started
    auto rest = std::span<const std::byte>(current_).subspan(offset_);
    offset_ = current_.size();
    return rest;
  }
  recycle_current();
  if (eof_) return {};
  auto next = queue_.pop();
  if (!next) {
    eof_ = true;
    return {};
  }
  current_ = std::move(*next);
  offset_ = current_.size();
  return current_;
}

size_t QueueSource::read(std::span<std::byte> out) {
  while (!eof_ && offset_ == current_.size()) {
    auto next = queue_.pop();
    if (!next) {
      eof_ = true;
      break;
    }
    recycle_current();
    current_ = std::move(*next);
    offset_ = 0;
  }
  if (eof_) return 0;
  const size_t n = std::min(out.size(), current_.size() - offset_);
  std::memcpy(out.data(), current_.data() + offset_, n);
  offset_ += n;
  return n;
}

} // namespace cachekit
