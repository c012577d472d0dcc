#pragma once
// What a save archives: the declared paths walked into a list of file-system objects, in
// the order the archive will hold them (depth-first, children sorted by name).
#include "util/fs.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace cachekit::archive {

// What the archive needs of lstat(2), compactly: a plan holds one per file, and trees of
// hundreds of thousands of files must stay within the memory budget.
struct FileMeta {
  uint32_t mode = 0;
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint64_t nlink = 0;
  uint64_t size = 0;
  uint64_t dev = 0;
  uint64_t ino = 0;
  int64_t mtime_sec = 0;
  int64_t mtime_nsec = 0;
};

// One file-system object to archive, found by plan_entries().
struct PlannedEntry {
  std::string absolute;
  uint32_t root = 0; // index into Plan::roots
  FileMeta meta;
};

// A declared path: where it is, and its member name in the archive (relative to the
// workspace, `../` for paths outside it, as actions/cache writes them).
struct PlanRoot {
  std::string absolute;
  std::string member;
};

struct Plan {
  std::vector<PlanRoot> roots;
  std::vector<PlannedEntry> entries;
  std::string member_name(const PlannedEntry &e) const;
};

// Walks `paths` (absolute, in manifest order) depth-first, children sorted by name.
// Directories are listed by several threads at once: on a cold disk, one request at a time
// leaves it mostly idle. Throws UsageError naming the path when something cannot be read
// (the first such path in archive order), before any byte is written, so a bad input never
// leaves a half-written entry.
Plan plan_entries(const fs::path &workspace, const std::vector<fs::path> &paths);

} // namespace cachekit::archive
