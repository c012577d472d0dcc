#include "archive/tar_writer.hpp"

#include "archive/file_opener.hpp"
#include "archive/read_ahead.hpp"
#include "util/error.hpp"
#include "util/log.hpp"

#include <algorithm>
#include <archive.h>
#include <archive_entry.h>
#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <memory>
#include <unistd.h>

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
