#pragma once
// From the `path` input to concrete paths: `~` expansion, relative patterns rooted at
// the workspace, glob(3) wildcards, `!` exclusions (of whole matches, as actions/cache's
// globber does with implicitDescendants off).
#include "util/fs.hpp"

#include <string>
#include <vector>

namespace cachekit::engine {

struct CachePaths {
  std::vector<fs::path> existing; // matches to archive, in pattern order, no duplicates
  std::vector<fs::path> roots;    // where restored members may land (one per positive pattern)
};

// Throws UsageError when `patterns` is empty.
CachePaths resolve_cache_paths(const std::vector<std::string> &patterns, const fs::path &workspace);

} // namespace cachekit::engine
