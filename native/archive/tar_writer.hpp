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

// One file-system object to archive, found by plan_entries().
struct PlannedEntry {
  fs::path absolute;
  std::string member_name;
  struct stat st {};
};

// Walks `paths` (absolute, in manifest order) depth-first, children sorted by name.
// Throws UsageError naming the path when something cannot be read, before any byte is
// written, so a bad input never leaves a half-written entry.
std::vector<PlannedEntry> plan_entries(const fs::path &workspace, const std::vector<fs::path> &paths);

// Writes the planned entries as pax tar into `out` (does not close `out`). While it
// writes, a read-ahead thread warms the page cache for the files just ahead, so a cold
// tree is read with more than one request in flight.
TarStats write_tar(const std::vector<PlannedEntry> &entries, ByteSink &out);

} // namespace cachekit::archive
