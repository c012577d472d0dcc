#pragma once
// Key and policy rules shared by restore and save (the limits actions/cache enforces).
#include <string>
#include <vector>

namespace cachekit::engine {

inline constexpr size_t kMaxKeyLength = 512;
inline constexpr size_t kMaxKeys = 10;

// Throws UsageError naming `input_name` when the key is empty, too long or has a comma.
void validate_key(const std::string &key, const std::string &input_name);
// Primary key plus restore keys: each valid, at most 10 in all.
void validate_keys(const std::string &primary_key, const std::vector<std::string> &restore_keys);

enum class CachePolicy { ReadWrite, ReadOnly, WriteOnly, Off };
CachePolicy parse_cache_policy(const std::string &text);
std::string to_string(CachePolicy policy);
inline bool may_read(CachePolicy p) {
  return p == CachePolicy::ReadWrite || p == CachePolicy::ReadOnly;
}
inline bool may_write(CachePolicy p) {
  return p == CachePolicy::ReadWrite || p == CachePolicy::WriteOnly;
}

} // namespace cachekit::engine
