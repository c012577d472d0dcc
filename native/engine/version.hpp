#pragma once
// The cache "version" exactly as actions/cache computes it, so entries are shared with
// it: sha256 hex of the raw path patterns joined by '|', then the compression method,
// then "windows-only" on Windows unless cross-OS, then the salt "1.0".
#include <string>
#include <vector>

namespace cachekit::engine {

inline constexpr const char *kCompressionMethod = "zstd-without-long";

std::string cache_version(const std::vector<std::string> &path_patterns,
                          const std::string &compression = kCompressionMethod, bool windows_only = false);

} // namespace cachekit::engine
