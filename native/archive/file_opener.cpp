#include "archive/file_opener.hpp"

#include <cerrno>
#include <fcntl.h>
#include <string_view>

namespace cachekit::archive {
namespace {

int open_in(int dir_fd, const char *name) {
  int fd = ::openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOATIME);
  if (fd < 0 && errno == EPERM) fd = ::openat(dir_fd, name, O_RDONLY | O_CLOEXEC); // not our file
  return fd;
}

} // namespace

int FileOpener::open(const std::string &path) {
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

} // namespace cachekit::archive
