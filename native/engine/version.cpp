#include "engine/version.hpp"

#include "util/sha256.hpp"
#include "util/strings.hpp"

namespace cachekit::engine {

std::string cache_version(const std::vector<std::string> &path_patterns, const std::string &compression,
                          bool windows_only) {
  std::vector<std::string> components = path_patterns;
  if (!compression.empty()) components.push_back(compression);
  if (windows_only) components.emplace_back("windows-only");
  components.emplace_back("1.0");
  return Sha256::hex(join(components, "|"));
}

} // namespace cachekit::engine
