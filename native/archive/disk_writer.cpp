#include "archive/disk_writer.hpp"

#include "util/error.hpp"
#include "util/log.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <string_view>
#include <sys/stat.h>
#include <unistd.h>

namespace cachekit::archive {
namespace {

// Enough for every directory on the current path plus its recent siblings; past this the
// cache starts over (cheap: entries arrive grouped by directory).
constexpr size_t kMaxOpenDirectories = 128;

mode_t read_umask() {
  const mode_t mask = ::umask(0);
  ::umask(mask);
  return mask;
}

std::string_view parent_of(std::string_view path) {
  const auto slash = path.rfind('/');
  if (slash == std::string_view::npos || slash == 0) return "/";
  return path.substr(0, slash);
}

const char *name_of(const std::string &s) {
  const auto slash = s.rfind('/');
  return s.c_str() + (slash == std::string::npos ? 0 : slash + 1);
}

bool is_below_or_at(std::string_view path, std::string_view dir) {
  return path.starts_with(dir) && (path.size() == dir.size() || path[dir.size()] == '/');
}

std::array<timespec, 2> times_of(const EntryMeta &meta) {
  timespec atime{0, UTIME_OMIT};
  if (meta.atime) atime = *meta.atime;
  return {atime, meta.mtime};
}

void set_owner(const Identity &identity, int fd, const char *name, const EntryMeta &meta, const std::string &dest) {
  // Only root can give files away; skip the call when they are ours already.
  if (!identity.is_root || (meta.uid == identity.euid && meta.gid == identity.egid)) return;
  const int rc =
      name ? ::fchownat(fd, name, meta.uid, meta.gid, AT_SYMLINK_NOFOLLOW) : ::fchown(fd, meta.uid, meta.gid);
  if (rc != 0) throw_errno("cannot set the owner of " + dest);
}

} // namespace

Identity Identity::of_this_process() {
  return {::geteuid() == 0, ::geteuid(), ::getegid(), read_umask()};
}

void FileOutput::write(const void *data, size_t size, int64_t offset) {
  const auto *p = static_cast<const char *>(data);
  while (size > 0) {
    const ssize_t n = ::pwrite(fd_.get(), p, size, offset);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno("cannot write " + path_);
    }
    p += n;
    size -= static_cast<size_t>(n);
    offset += n;
  }
  end_ = std::max(end_, offset);
}

void FileOutput::close(int64_t size) {
  const int fd = fd_.get();
  if (end_ < size && ::ftruncate(fd, size) != 0) throw_errno("cannot size " + path_); // trailing hole
  set_owner(identity_, fd, nullptr, meta_, path_);
  mode_t mode = meta_.mode & 07777;
  if (!identity_.is_root && (meta_.uid != identity_.euid || meta_.gid != identity_.egid))
    mode &= ~mode_t{06000}; // not our set-id
  if (identity_.needs_chmod(mode) && ::fchmod(fd, mode) != 0) throw_errno("cannot set the mode of " + path_);
  const auto times = times_of(meta_);
  if (::futimens(fd, times.data()) != 0) throw_errno("cannot set the times of " + path_);
  if (::close(fd_.release()) != 0) throw_errno("cannot write " + path_);
}

DiskWriter::DiskWriter() : identity_(Identity::of_this_process()) {}

DiskWriter::~DiskWriter() {
  // On failure, still give read-only directories their mode back.
  try {
    finish();
  } catch (...) {
  }
}

int DiskWriter::directory_fd(const std::string &dir) {
  if (auto it = dir_fds_.find(dir); it != dir_fds_.end()) return it->second.get();
  int fd = -1;
  if (dir == "/") {
    fd = ::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  } else {
    const int parent = directory_fd(std::string(parent_of(dir)));
    const char *name = dir.c_str() + dir.rfind('/') + 1;
    // Follows a symlink here on purpose: the caller has checked that ancestors inside the
    // cache paths lead inside them; above the cache paths, links are the user's business.
    fd = ::openat(parent, name, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
      // A parent the archive does not list (or lists later): create it like `mkdir -p`.
      if (::mkdirat(parent, name, 0777) != 0 && errno != EEXIST) throw_errno("cannot create directory " + dir);
      fd = ::openat(parent, name, O_PATH | O_DIRECTORY | O_CLOEXEC);
    }
  }
  if (fd < 0) throw_errno("cannot open directory " + dir);
  dir_fds_.emplace(dir, UniqueFd(fd));
  return fd;
}

int DiskWriter::parent_fd_of(const std::string &dest) {
  const std::string_view parent_view = parent_of(dest);
  if (last_parent_fd_ >= 0 && parent_view == last_parent_) return last_parent_fd_;
  if (dir_fds_.size() >= kMaxOpenDirectories) dir_fds_.clear();
  std::string parent(parent_view);
  const int fd = directory_fd(parent);
  if (!identity_.is_root) make_writable(parent, fd);
  last_parent_ = std::move(parent);
  last_parent_fd_ = fd;
  return fd;
}

// As non-root we cannot replace entries of a read-only directory we own (Go's module cache
// is 0555). Add u+w for the duration; finish() puts the mode back.
void DiskWriter::make_writable(const std::string &dir, int fd) {
  if (!writable_checked_.emplace(dir, true).second) return;
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISDIR(st.st_mode)) return;
  if ((st.st_mode & S_IWUSR) || st.st_uid != identity_.euid) return;
  if (::chmod(dir.c_str(), (st.st_mode & 07777) | S_IWUSR) != 0) throw_errno("cannot make " + dir + " writable");
  auto &fixup = fixups_[dir];
  if (!fixup.mode) fixup.mode = st.st_mode & 07777;
}

void DiskWriter::forget_directories_under(const std::string &path) {
  forget_last_parent();
  auto erase_under = [&path](auto &map) {
    for (auto it = map.lower_bound(path); it != map.end() && is_below_or_at(it->first, path);)
      it = map.erase(it);
  };
  erase_under(dir_fds_);
  erase_under(writable_checked_);
  erase_under(fixups_);
}

// Replaces what is at `dest` (a file, a link, an empty directory); never writes into it.
void DiskWriter::remove_in_the_way(int parent_fd, const std::string &dest) {
  const char *name = name_of(dest);
  if (::unlinkat(parent_fd, name, 0) != 0) {
    if (errno != EISDIR && errno != EPERM) throw_errno("cannot replace " + dest);
    if (::unlinkat(parent_fd, name, AT_REMOVEDIR) != 0) {
      if (errno == ENOTEMPTY || errno == EEXIST)
        throw OperationError(fmt::format("cannot replace directory {}: it is not empty", dest));
      throw_errno("cannot replace " + dest);
    }
  }
  forget_directories_under(dest);
}

FileOutput DiskWriter::open_file(const std::string &dest, const EntryMeta &meta) {
  const int parent = parent_fd_of(dest);
  const char *name = name_of(dest);
  constexpr int kFlags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
  int fd = ::openat(parent, name, kFlags, meta.mode & 0777);
  if (fd < 0 && errno == EEXIST) {
    remove_in_the_way(parent, dest);
    fd = ::openat(parent, name, kFlags, meta.mode & 0777);
  }
  if (fd < 0) throw_errno("cannot create " + dest);
  return {UniqueFd(fd), dest, meta, identity_};
}

bool DiskWriter::make_directory(const std::string &dest, const EntryMeta &meta) {
  const int parent = parent_fd_of(dest);
  const char *name = name_of(dest);
  const mode_t mode = meta.mode & 07777;
  const mode_t create_mode = (mode & 0777) | S_IRWXU; // we fill it first; the mode comes at the end
  bool created = ::mkdirat(parent, name, create_mode) == 0;
  if (!created) {
    if (errno != EEXIST) throw_errno("cannot create directory " + dest);
    struct stat st {};
    if (::fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) != 0) throw_errno("cannot inspect " + dest);
    if (S_ISLNK(st.st_mode) && ::fstatat(parent, name, &st, 0) == 0 && S_ISDIR(st.st_mode))
      return false; // a link to a directory stays (the caller checks where it leads); leave its target alone
    if (!S_ISDIR(st.st_mode)) {
      remove_in_the_way(parent, dest);
      if (::mkdirat(parent, name, create_mode) != 0) throw_errno("cannot create directory " + dest);
      created = true;
    }
  }
  set_owner(identity_, parent, name, meta, dest);
  auto &fixup = fixups_[dest];
  if (!created || identity_.needs_chmod(create_mode) || create_mode != mode) fixup.mode = mode;
  fixup.mtime = meta.mtime;
  return true;
}

void DiskWriter::make_symlink(const std::string &dest, const char *target, const EntryMeta &meta) {
  const int parent = parent_fd_of(dest);
  const char *name = name_of(dest);
  if (::symlinkat(target, parent, name) != 0) {
    if (errno != EEXIST) throw_errno("cannot create symlink " + dest);
    remove_in_the_way(parent, dest);
    if (::symlinkat(target, parent, name) != 0) throw_errno("cannot create symlink " + dest);
  }
  set_owner(identity_, parent, name, meta, dest);
  const auto times = times_of(meta);
  if (::utimensat(parent, name, times.data(), AT_SYMLINK_NOFOLLOW) != 0)
    log::debug("cannot set the times of symlink {}: {}", dest, std::strerror(errno));
}

void DiskWriter::make_hardlink(const std::string &dest, const std::string &existing) {
  const int parent = parent_fd_of(dest);
  const char *name = name_of(dest);
  if (::linkat(AT_FDCWD, existing.c_str(), parent, name, 0) != 0) {
    if (errno != EEXIST) throw_errno(fmt::format("cannot link {} to {}", dest, existing));
    remove_in_the_way(parent, dest);
    if (::linkat(AT_FDCWD, existing.c_str(), parent, name, 0) != 0)
      throw_errno(fmt::format("cannot link {} to {}", dest, existing));
  }
}

void DiskWriter::finish() {
  forget_last_parent();
  dir_fds_.clear();
  // Reverse lexical order visits every directory before its parent.
  for (auto it = fixups_.rbegin(); it != fixups_.rend(); ++it) {
    const auto &[path, fixup] = *it;
    if (fixup.mode && ::chmod(path.c_str(), *fixup.mode) != 0 && errno != ENOENT)
      log::warning("cannot restore the mode of {}: {}", path, std::strerror(errno));
    if (fixup.mtime) {
      const std::array<timespec, 2> times{timespec{0, UTIME_OMIT}, *fixup.mtime};
      if (::utimensat(AT_FDCWD, path.c_str(), times.data(), AT_SYMLINK_NOFOLLOW) != 0 && errno != ENOENT)
        log::debug("cannot set the times of {}: {}", path, std::strerror(errno));
    }
  }
  fixups_.clear();
  writable_checked_.clear();
}

} // namespace cachekit::archive
