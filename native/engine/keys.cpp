#include "engine/keys.hpp"

#include "util/error.hpp"

#include <fmt/format.h>

namespace cachekit::engine {

void validate_key(const std::string &key, const std::string &input_name) {
  if (key.empty()) throw UsageError(fmt::format("{}: the key is empty (expected a non-empty cache key)", input_name));
  if (key.size() > kMaxKeyLength)
    throw UsageError(
        fmt::format("{}: the key is {} characters long (at most {} allowed)", input_name, key.size(), kMaxKeyLength));
  if (key.find(',') != std::string::npos)
    throw UsageError(fmt::format("{}: '{}' contains a comma (commas are not allowed in keys)", input_name, key));
}

void validate_keys(const std::string &primary_key, const std::vector<std::string> &restore_keys) {
  validate_key(primary_key, "key");
  for (const auto &k : restore_keys)
    validate_key(k, "restore-keys");
  if (1 + restore_keys.size() > kMaxKeys)
    throw UsageError(fmt::format("restore-keys: {} keys in all with the primary key (at most {} allowed)",
                                 1 + restore_keys.size(), kMaxKeys));
}

CachePolicy parse_cache_policy(const std::string &text) {
  if (text.empty() || text == "read-write") return CachePolicy::ReadWrite;
  if (text == "read-only") return CachePolicy::ReadOnly;
  if (text == "write-only") return CachePolicy::WriteOnly;
  if (text == "off") return CachePolicy::Off;
  throw UsageError(
      fmt::format("cache-policy: '{}' is not a policy (expected read-write, read-only, write-only or off)", text));
}

std::string to_string(CachePolicy policy) {
  switch (policy) {
  case CachePolicy::ReadWrite: return "read-write";
  case CachePolicy::ReadOnly: return "read-only";
  case CachePolicy::WriteOnly: return "write-only";
  case CachePolicy::Off: return "off";
  }
  return "read-write";
}

} // namespace cachekit::engine
