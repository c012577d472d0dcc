#include "archive/read_ahead.hpp"

#include <cerrno>
#include <chrono>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/uio.h>
#include <unistd.h>

namespace cachekit::archive {
namespace {

constexpr size_t kMaxFilesAhead = 4096;
constexpr uint64_t kMaxBytesAhead = 128ULL << 20;

bool in_memory_filesystem(int fd) {
  struct statfs fs {};
  return ::fstatfs(fd, &fs) == 0 && (fs.f_type == TMPFS_MAGIC || fs.f_type == RAMFS_MAGIC);
}

} // namespace

ReadAhead::~ReadAhead() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void ReadAhead::start() {
  if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
}

void ReadAhead::run() {
  size_t next = 0;
  uint64_t bytes_ahead = 0;
  size_t counted_up_to = 0; // bytes of entries [counted_up_to, next) are in bytes_ahead
  while (!stop_ && next < entries_.size()) {
    const size_t writer = writer_index_.load(std::memory_order_relaxed);
    while (counted_up_to < writer && counted_up_to < next) {
      bytes_ahead -= size_of(counted_up_to);
      ++counted_up_to;
    }
    if (next < writer) next = counted_up_to = writer, bytes_ahead = 0;
    if (next - writer > kMaxFilesAhead || bytes_ahead > kMaxBytesAhead) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      continue;
    }
    const auto &e = entries_[next];
    if (S_ISREG(e.meta.mode) && e.meta.size > 0) {
      const int fd = opener_.open(e.absolute);
      if (fd >= 0) {
        ::posix_fadvise(fd, 0, 0, POSIX_FADV_WILLNEED);
        ::close(fd);
      }
    }
    bytes_ahead += size_of(next);
    ++next;
  }
}

uint64_t ReadAhead::size_of(size_t i) const {
  return S_ISREG(entries_[i].meta.mode) ? static_cast<uint64_t>(entries_[i].meta.size) : 0;
}

ssize_t MissNoticingReader::read(int fd, uint64_t dev, char *data, size_t size) {
  if (!read_ahead_.started() && !memory_devices_.contains(dev)) {
    iovec iov{data, size};
    const ssize_t n = ::preadv2(fd, &iov, 1, -1, RWF_NOWAIT);
    if (n > 0) return n; // maybe short: the next call asks again
    // Anything else than these (end of file, EINTR, an error) the plain read reports.
    if (n < 0 && errno == EAGAIN) read_ahead_.start();
    if (n < 0 && errno == EOPNOTSUPP) {
      if (in_memory_filesystem(fd))
        memory_devices_.insert(dev);
      else
        read_ahead_.start(); // cannot tell: assume a disk
    }
  }
  return ::read(fd, data, size);
}

} // namespace cachekit::archive
