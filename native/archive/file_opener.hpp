#pragma once
// Opens the files to archive relative to their directory, which stays open while its files
// come (the plan lists them together): the kernel then looks up one name, not every
// directory of a long path again (path lookup was 5% of a warm pnpm save's CPU).
// One per thread.
#include "util/fs.hpp"

#include <string>

namespace cachekit::archive {

class FileOpener {
public:
  // A read-only descriptor (the caller owns it), or -1 with errno set.
  int open(const std::string &path);

private:
  std::string dir_;
  UniqueFd dir_fd_;
};

} // namespace cachekit::archive
