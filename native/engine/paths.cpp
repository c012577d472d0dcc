#include "engine/paths.hpp"

#include "util/error.hpp"

#include <algorithm>
#include <glob.h>
#include <set>
#include <sys/stat.h>

namespace cachekit::engine {
namespace {

bool has_wildcard(const std::string &s) {
  return s.find_first_of("*?[") != std::string::npos;
}

fs::path absolute_pattern(const std::string &pattern, const fs::path &workspace) {
  fs::path p = expand_home(pattern);
  if (!p.is_absolute()) p = workspace / p;
  return normalize_lexically(p);
}

// The directory above the first wildcard component: nothing a pattern matches can lie
// outside it.
fs::path literal_root(const fs::path &absolute) {
  fs::path root = "/";
  for (const auto &part : absolute.relative_path()) {
    if (has_wildcard(part.string())) break;
    root /= part;
  }
  return root;
}

std::vector<fs::path> expand(const fs::path &absolute) {
  const std::string text = absolute.string();
  if (!has_wildcard(text)) {
    struct stat st {};
    if (::lstat(text.c_str(), &st) == 0) return {absolute};
    return {};
  }
  glob_t g{};
  std::vector<fs::path> out;
  // `**` is treated as `*` here (one level); documented limitation.
  if (::glob(text.c_str(), GLOB_NOSORT | GLOB_PERIOD, nullptr, &g) == 0)
    for (size_t i = 0; i < g.gl_pathc; ++i)
      out.emplace_back(normalize_lexically(g.gl_pathv[i]));
  ::globfree(&g);
  std::sort(out.begin(), out.end());
  return out;
}

} // namespace

CachePaths resolve_cache_paths(const std::vector<std::string> &patterns, const fs::path &workspace) {
  std::vector<std::string> positive, negative;
  for (const auto &raw : patterns) {
    if (raw.empty() || raw[0] == '#') continue;
    if (raw[0] == '!')
      negative.push_back(raw.substr(1));
    else
      positive.push_back(raw);
  }
  if (positive.empty()) throw UsageError("path: no cache paths given (expected one or more paths, one per line)");

  std::set<fs::path> excluded;
  for (const auto &n : negative)
    for (auto &p : expand(absolute_pattern(n, workspace)))
      excluded.insert(p);

  CachePaths out;
  std::set<fs::path> seen;
  for (const auto &pattern : positive) {
    const auto absolute = absolute_pattern(pattern, workspace);
    out.roots.push_back(literal_root(absolute));
    for (auto &p : expand(absolute))
      if (!excluded.contains(p) && seen.insert(p).second) out.existing.push_back(p);
  }
  return out;
}

} // namespace cachekit::engine
