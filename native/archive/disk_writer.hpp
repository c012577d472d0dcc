#pragma once
// Creates archive members on disk with as few system calls per entry as possible: every
// entry is made relative to a cached descriptor of its directory (no path walk per file),
// created exclusively and without following a symlink at its own name, so nothing is ever
// written through what was there before; what is in the way is replaced. Directory modes
// and times are applied at the end, deepest first, as tar does.
//
// Why not libarchive's archive_write_disk: it costs 8-9 system calls per file (two umask
// calls, fcntl, a full path walk on open, fchown even for our own ids); this costs four
// (openat, write, futimens, close), which is most of a restore's time on a file-heavy tree.
//
// Confinement is the caller's job (PathRules + ancestor checks): paths given here are
// already absolute, normal and inside the cache paths.
#include "util/fs.hpp"

#include <array>
#include <cstdint>
#include <ctime>
#include <map>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace cachekit::archive {

struct EntryMeta {
  mode_t mode = 0644; // permission bits (07777)
  uid_t uid = 0;
  gid_t gid = 0;
  timespec mtime{0, 0};
  std::optional<timespec> atime; // unset: left as the creation time
};

// Who we are, for what we may and must set on what we create.
struct Identity {
  bool is_root;
  uid_t euid;
  gid_t egid;
  mode_t umask;
  static Identity of_this_process();
  // Whether creating with `mode` leaves another one: the umask took bits away, or set-id and
  // sticky bits, which creation never sets (and fchown clears).
  bool needs_chmod(mode_t mode) const { return (mode & ~umask & 0777) != mode; }
};

// A regular file created by DiskWriter::open_file: its contents, then its size, owner, mode
// and times. Needs nothing from the writer, so another thread may finish it.
class FileOutput {
public:
  FileOutput() = default;
  FileOutput(UniqueFd fd, std::string path, const EntryMeta &meta, const Identity &identity)
      : fd_(std::move(fd)), path_(std::move(path)), meta_(meta), identity_(identity) {}

  void write(const void *data, size_t size, int64_t offset); // any order, holes allowed
  void close(int64_t size);

private:
  UniqueFd fd_;
  std::string path_;
  EntryMeta meta_;
  Identity identity_{};
  int64_t end_ = 0; // past the last byte written
};

class DiskWriter {
public:
  DiskWriter();
  ~DiskWriter();
  DiskWriter(const DiskWriter &) = delete;
  DiskWriter &operator=(const DiskWriter &) = delete;

  FileOutput open_file(const std::string &dest, const EntryMeta &meta);

  // False when an existing symlink to a directory was left in place: then `dest` is not a
  // directory of ours, and what goes below it needs the caller's symlink check.
  bool make_directory(const std::string &dest, const EntryMeta &meta);
  void make_symlink(const std::string &dest, const char *target, const EntryMeta &meta);
  void make_hardlink(const std::string &dest, const std::string &existing);

  // Applies directory modes and times (deepest first) and gives directories that were
  // opened for writing their mode back. Also run by the destructor, errors ignored.
  void finish();

private:
  struct DirFixup {
    std::optional<mode_t> mode;
    std::optional<timespec> mtime;
  };

  int directory_fd(const std::string &dir);
  void forget_last_parent() { last_parent_fd_ = -1; }
  int parent_fd_of(const std::string &dest);
  void make_writable(const std::string &dir, int fd);
  void remove_in_the_way(int parent_fd, const std::string &dest);
  void forget_directories_under(const std::string &path);

  const Identity identity_;
  // Open directory descriptors by path; kept small (entries come grouped by directory).
  std::map<std::string, UniqueFd> dir_fds_;
  // Directories checked (non-root) for whether they are writable.
  std::map<std::string, bool> writable_checked_;
  std::map<std::string, DirFixup> fixups_;
  // Consecutive entries mostly share a directory: skip even the map lookup for them.
  std::string last_parent_;
  int last_parent_fd_ = -1;
};

} // namespace cachekit::archive
