#include "archive/tar_writer.hpp"

#include "util/error.hpp"
#include "util/log.hpp"

#include <algorithm>
#include <archive.h>
#include <archive_entry.h>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <linux/magic.h>
#include <memory>
#include <sys/statfs.h>
#include <sys/uio.h>
#include <thread>
#include <unistd.h>
#include <unordered_set>

namespace cachekit::archive {
namespace {

struct stat stat_of(const FileMeta &m) {
  struct stat st {};
  st.st_mode = m.mode;
  st.st_uid = m.uid;
  st.st_gid = m.gid;
  st.st_nlink = m.nlink;
  st.st_size = static_cast<off_t>(m.size);
  st.st_dev = m.dev;
  st.st_ino = m.ino;
  st.st_mtim.tv_sec = m.mtime_sec;
  st.st_mtim.tv_nsec = m.mtime_nsec;
  return st;
}

struct ArchiveWriteDeleter {
  void operator()(struct archive *a) const { archive_write_free(a); }
};
struct EntryDeleter {
  void operator()(archive_entry *e) const { archive_entry_free(e); }
};
struct ResolverDeleter {
  void operator()(archive_entry_linkresolver *r) const { archive_entry_linkresolver_free(r); }
};

la_ssize_t write_callback(struct archive *, void *client, const void *buffer, size_t length) {
  auto *sink = static_cast<ByteSink *>(client);
  try {
    sink->write(std::span(static_cast<const std::byte *>(buffer), length));
  } catch (...) {
    return -1; // the sink keeps its own error; write_tar rethrows it below
  }
  return static_cast<la_ssize_t>(length);
}

// Sink wrapper that remembers the first exception thrown downstream, because libarchive's
// callbacks can only report "-1".
class ErrorKeepingSink : public ByteSink {
public:
  explicit ErrorKeepingSink(ByteSink &inner) : inner_(inner) {}
  void write(std::span<const std::byte> data) override {
    try {
      inner_.write(data);
    } catch (...) {
      error_ = std::current_exception();
      throw;
    }
  }
  void rethrow_if_failed() const {
    if (error_) std::rethrow_exception(error_);
  }

private:
  ByteSink &inner_;
  std::exception_ptr error_;
};

void check(struct archive *a, int rc, const std::string &what) {
  if (rc < ARCHIVE_WARN) throw OperationError(fmt::format("{}: {}", what, archive_error_string(a)));
}

// Opens the files to archive relative to their directory, which stays open while its files
// come (the plan lists them together): the kernel then looks up one name, not every
// directory of a long path again (path lookup was 5% of a warm pnpm save's CPU).
class FileOpener {
public:
  int open(const std::string &path) {
    const auto slash = path.rfind('/');
    if (slash == std::string::npos) return open_in(AT_FDCWD, path.c_str());
    const std::string_view dir = slash == 0 ? std::string_view("/") : std::string_view(path).substr(0, slash);
    if (dir != dir_) {
      dir_.assign(dir);
      dir_fd_.reset(::open(dir_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    }
    if (!dir_fd_) return open_in(AT_FDCWD, path.c_str()); // reports the error for the whole path
    return open_in(dir_fd_.get(), path.c_str() + slash + 1);
  }

private:
  static int open_in(int dir_fd, const char *name) {
    int fd = ::openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOATIME);
    if (fd < 0 && errno == EPERM) fd = ::openat(dir_fd, name, O_RDONLY | O_CLOEXEC); // not our file
    return fd;
  }

  std::string dir_;
  UniqueFd dir_fd_;
};

// Warms the page cache for regular files ahead of the writer: the writer reads one file
// at a time, which leaves a cold disk idle between requests. It starts only when the writer
// finds data that is not cached: on a warm tree (or tmpfs) its open/fadvise/close per file
// would only take CPU from compression (measured: 20% of a warm pnpm save's CPU, 45k files).
class ReadAhead {
public:
  explicit ReadAhead(const std::vector<PlannedEntry> &entries) : entries_(entries) {}
  ReadAhead(const ReadAhead &) = delete;
  ReadAhead &operator=(const ReadAhead &) = delete;
  ~ReadAhead() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  void advance(size_t index) { writer_index_.store(index, std::memory_order_relaxed); }
  // The writer had to wait for the disk: from now on, read ahead of it.
  void start() {
    if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
  }
  bool started() const { return thread_.joinable(); }

private:
  static constexpr size_t kMaxFilesAhead = 4096;
  static constexpr uint64_t kMaxBytesAhead = 128ULL << 20;

  void run() {
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
  uint64_t size_of(size_t i) const {
    return S_ISREG(entries_[i].meta.mode) ? static_cast<uint64_t>(entries_[i].meta.size) : 0;
  }

  const std::vector<PlannedEntry> &entries_;
  FileOpener opener_; // its own: the writer's is used on the writer's thread
  std::atomic<size_t> writer_index_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

bool in_memory_filesystem(int fd) {
  struct statfs fs {};
  return ::fstatfs(fd, &fs) == 0 && (fs.f_type == TMPFS_MAGIC || fs.f_type == RAMFS_MAGIC);
}

// Reads like read(2), but until the read-ahead runs, first asks for cached data only
// (RWF_NOWAIT): a read that would wait for the disk starts the read-ahead. tmpfs cannot
// answer that (EOPNOTSUPP), but there everything is in memory anyway.
class MissNoticingReader {
public:
  explicit MissNoticingReader(ReadAhead &read_ahead) : read_ahead_(read_ahead) {}

  ssize_t read(int fd, uint64_t dev, char *data, size_t size) {
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

private:
  ReadAhead &read_ahead_;
  std::unordered_set<uint64_t> memory_devices_;
};

void copy_file_data(struct archive *a, const PlannedEntry &e, std::vector<char> &buffer, ErrorKeepingSink &sink,
                    FileOpener &opener, MissNoticingReader &reader) {
  const int fd = opener.open(e.absolute);
  if (fd < 0) throw_errno("cannot open " + e.absolute);
  UniqueFd file(fd);
  auto remaining = static_cast<uint64_t>(e.meta.size);
  while (remaining > 0) {
    const auto want = static_cast<size_t>(std::min<uint64_t>(remaining, buffer.size()));
    ssize_t n = reader.read(file.get(), e.meta.dev, buffer.data(), want);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno("cannot read " + e.absolute);
    }
    if (n == 0) {
      // The file shrank while we archived it: pad with zeros to keep the tar stream valid.
      log::warning("{} shrank while it was archived; the cached copy is padded with zeros", e.absolute);
      std::fill(buffer.begin(), buffer.end(), 0);
      n = static_cast<ssize_t>(want);
    }
    if (archive_write_data(a, buffer.data(), static_cast<size_t>(n)) < 0) {
      sink.rethrow_if_failed();
      throw OperationError(fmt::format("tar: {}", archive_error_string(a)));
    }
    remaining -= static_cast<uint64_t>(n);
  }
}

} // namespace

TarStats write_tar(const Plan &plan, ByteSink &out) {
  const auto &entries = plan.entries;
  ErrorKeepingSink sink(out);
  std::unique_ptr<struct archive, ArchiveWriteDeleter> a(archive_write_new());
  if (!a) throw OperationError("tar: cannot create libarchive writer");
  check(a.get(), archive_write_set_format_pax(a.get()), "tar format");
  check(a.get(), archive_write_add_filter_none(a.get()), "tar filter");
  check(a.get(), archive_write_set_bytes_per_block(a.get(), 0), "tar block size");
  check(a.get(), archive_write_set_bytes_in_last_block(a.get(), 1), "tar last block");
  if (archive_write_open2(a.get(), &sink, nullptr, write_callback, nullptr, nullptr) != ARCHIVE_OK) {
    sink.rethrow_if_failed();
    throw OperationError(fmt::format("tar: {}", archive_error_string(a.get())));
  }

  std::unique_ptr<archive_entry_linkresolver, ResolverDeleter> resolver(archive_entry_linkresolver_new());
  archive_entry_linkresolver_set_strategy(resolver.get(), ARCHIVE_FORMAT_TAR_PAX_INTERCHANGE);

  TarStats stats;
  std::vector<char> buffer(size_t{256} * 1024);
  std::string link_target(4096, '\0');
  ReadAhead read_ahead(entries);
  MissNoticingReader reader(read_ahead);
  FileOpener opener;

  for (size_t i = 0; i < entries.size(); ++i) {
    read_ahead.advance(i);
    const auto &e = entries[i];
    archive_entry *raw = archive_entry_new();
    if (!raw) throw OperationError("tar: out of memory");
    const auto member = plan.member_name(e);
    const struct stat st = stat_of(e.meta);
    archive_entry_copy_pathname(raw, member.c_str());
    archive_entry_copy_stat(raw, &st);
    archive_entry_unset_atime(raw);
    archive_entry_unset_ctime(raw);
    archive_entry_unset_birthtime(raw);
    std::unique_ptr<archive_entry, EntryDeleter> entry(raw);

    if (S_ISLNK(e.meta.mode)) {
      ssize_t n = ::readlink(e.absolute.c_str(), link_target.data(), link_target.size());
      if (n < 0) throw_errno("cannot read symlink " + e.absolute);
      archive_entry_copy_symlink(entry.get(), std::string(link_target.data(), static_cast<size_t>(n)).c_str());
      ++stats.symlinks;
    } else if (S_ISDIR(e.meta.mode)) {
      ++stats.directories;
    } else if (!S_ISREG(e.meta.mode)) {
      log::warning("skipping {}: not a regular file, directory or symlink", e.absolute);
      continue;
    }

    bool write_data = S_ISREG(e.meta.mode);
    if (S_ISREG(e.meta.mode) && e.meta.nlink > 1) {
      archive_entry *spare = nullptr;
      archive_entry *linked = entry.release();
      archive_entry_linkify(resolver.get(), &linked, &spare);
      entry.reset(linked);
      if (spare) archive_entry_free(spare);
      if (archive_entry_hardlink(entry.get()) != nullptr) {
        write_data = false;
        ++stats.hardlinks;
      }
    }

    if (archive_write_header(a.get(), entry.get()) < ARCHIVE_WARN) {
      sink.rethrow_if_failed();
      throw OperationError(fmt::format("tar: {}: {}", member, archive_error_string(a.get())));
    }
    if (write_data) {
      if (archive_entry_size(entry.get()) > 0) copy_file_data(a.get(), e, buffer, sink, opener, reader);
      ++stats.files;
      stats.data_bytes += static_cast<uint64_t>(e.meta.size);
    }
  }
  stats.read_ahead = read_ahead.started();
  if (archive_write_close(a.get()) != ARCHIVE_OK) {
    sink.rethrow_if_failed();
    throw OperationError(fmt::format("tar: {}", archive_error_string(a.get())));
  }
  return stats;
}

} // namespace cachekit::archive
