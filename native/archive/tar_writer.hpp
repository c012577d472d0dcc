#pragma once
// Writes the cache paths as a pax tar stream (the layout actions/cache writes: member
// names relative to the workspace, `../` for paths outside it) into a ByteSink.
#include "util/byte_stream.hpp"
#include "util/fs.hpp"

#include <cstdint>
#include <string>
#include <sys/stat.h>
#include <vector>

namespace cachekit::archive {

struct TarStats {
  uint64_t files = 0;
  uint64_t directories = 0;
  uint64_t symlinks = 0;
  uint64_t hardlinks = 0;
  uint64_t data_bytes = 0; // file content bytes
};

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
// Throws UsageError naming the path when something cannot be read, before any byte is
// written, so a bad input never leaves a half-written entry.
Plan plan_entries(const fs::path &workspace, const std::vector<fs::path> &paths);

// Writes the planned entries as pax tar into `out` (does not close `out`). While it
// writes, a read-ahead thread warms the page cache for the files just ahead, so a cold
// tree is read with more than one request in flight.
TarStats write_tar(const Plan &plan, ByteSink &out);

} // namespace cachekit::archive
