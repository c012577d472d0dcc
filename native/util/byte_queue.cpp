#include "util/byte_queue.hpp"

#include <algorithm>
#include <cstring>

namespace cachekit {

void QueueSink::write(std::span<const std::byte> data) {
  while (!data.empty()) {
    if (pending_.capacity() < chunk_size_) {
      if (pool_ != nullptr) {
        pending_ = pool_->take();
        pending_.clear(); // keeps the capacity
      } else {
        pending_.reserve(chunk_size_);
      }
    }
    const size_t n = std::min(data.size(), chunk_size_ - pending_.size());
    // resize + memcpy: with our allocator, insert() would construct byte by byte.
    const size_t at = pending_.size();
    pending_.resize(at + n);
    std::memcpy(pending_.data() + at, data.data(), n);
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

std::span<const std::byte> SliceSource::next_block() {
  current_ = Slice(); // lets go of the previous chunk unless a consumer still holds it
  while (!eof_) {
    auto next = queue_.pop();
    if (!next) {
      eof_ = true;
      break;
    }
    if (next->size == 0) continue;
    current_ = std::move(*next);
    return current_.bytes();
  }
  return {};
}

bool QueueSource::advance() {
  current_.reset(); // back to the pool unless a consumer still holds it
  offset_ = 0;
  if (eof_) return false;
  auto next = queue_.pop();
  if (!next) {
    eof_ = true;
    return false;
  }
  current_ = std::make_shared<ChunkLease>(std::move(*next), pool_);
  return true;
}

std::span<const std::byte> QueueSource::next_block() {
  if (offset_ < current_size()) { // finish a chunk that read() started
    auto rest = std::span<const std::byte>(current_->chunk()).subspan(offset_);
    offset_ = current_size();
    return rest;
  }
  if (!advance()) return {};
  offset_ = current_size();
  return current_->chunk();
}

size_t QueueSource::read(std::span<std::byte> out) {
  while (offset_ == current_size())
    if (!advance()) return 0;
  const size_t n = std::min(out.size(), current_size() - offset_);
  std::memcpy(out.data(), current_->chunk().data() + offset_, n);
  offset_ += n;
  return n;
}

} // namespace cachekit
