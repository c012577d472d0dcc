#include "archive/path_rules.hpp"

#include "util/error.hpp"

#include <fmt/format.h>

namespace cachekit::archive {

PathRules::PathRules(const fs::path &workspace, const std::vector<fs::path> &roots)
    : workspace_(normalize_lexically(workspace)) {
  for (auto &r : roots)
    roots_.push_back(normalize_lexically(r));
}

std::string PathRules::describe_roots() const {
  std::string out;
  for (const auto &r : roots_)
    out += (out.empty() ? "" : ", ") + r.string();
  return out;
}

bool PathRules::inside_roots(const fs::path &absolute_normal) const {
  for (const auto &r : roots_)
    if (is_within(absolute_normal, r)) return true;
  return false;
}

const fs::path &PathRules::root_of(const fs::path &absolute_normal) const {
  const fs::path *best = nullptr;
  for (const auto &r : roots_)
    if (is_within(absolute_normal, r) && (!best || r.native().size() > best->native().size())) best = &r;
  if (!best) throw UnsafeArchiveError(fmt::format("{} is outside the cache paths", absolute_normal.string()));
  return *best;
}

fs::path PathRules::resolve_member(std::string_view member_name) const {
  if (member_name.empty()) throw UnsafeArchiveError("archive has a member with an empty name");
  if (member_name.find('\0') != std::string_view::npos)
    throw UnsafeArchiveError("archive has a member name with a NUL byte");
  std::string absolute;
  if (member_name.front() != '/') {
    absolute.reserve(workspace_.native().size() + 1 + member_name.size());
    absolute = workspace_.native();
    absolute += '/';
  }
  absolute.append(member_name);
  auto normal = normalize_lexically(absolute);
  if (!inside_roots(normal))
    throw UnsafeArchiveError(
        fmt::format("refusing archive member '{}': it resolves to {}, outside the cache paths ({})", member_name,
                    normal.string(), describe_roots()));
  return normal;
}

bool PathRules::symlink_stays_inside(const fs::path &link_path, std::string_view target) const {
  if (target.empty()) return false;
  const fs::path t{std::string(target)};
  return inside_roots(normalize_lexically(t.is_absolute() ? t : link_path.parent_path() / t));
}

} // namespace cachekit::archive
