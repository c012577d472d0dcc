#pragma once
// Where an archive member may land. Every member must resolve inside one of the declared
// cache paths; links must not point outside them. This is the one place that decides.
#include "util/fs.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace cachekit::archive {

class PathRules {
public:
  // `workspace`: member names are relative to it. `roots`: absolute cache paths (for a glob
  // pattern, the directory above its first wildcard).
  PathRules(const fs::path &workspace, const std::vector<fs::path> &roots);

  // The absolute, lexically normal destination of a member name. Throws UnsafeArchiveError
  // when it is outside every root.
  fs::path resolve_member(std::string_view member_name) const;
  // Whether a symlink at `link_path` with `target` points inside the roots (resolved
  // lexically from the link's directory).
  bool symlink_stays_inside(const fs::path &link_path, std::string_view target) const;
  bool inside_roots(const fs::path &absolute_normal) const;
  // The root that contains `absolute_normal` (must be inside one).
  const fs::path &root_of(const fs::path &absolute_normal) const;

  const std::vector<fs::path> &roots() const { return roots_; }
  const fs::path &workspace() const { return workspace_; }

private:
  std::string describe_roots() const;
  fs::path workspace_;
  std::vector<fs::path> roots_;
};

} // namespace cachekit::archive
