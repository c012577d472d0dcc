#include "storage/key_match.hpp"

namespace cachekit::storage {

std::optional<LookupResult> select_entry(const LookupRequest &request, const ScopeLister &list_scope) {
  struct Attempt {
    const std::string *key;
    bool prefix_allowed;
  };
  std::vector<Attempt> attempts{{&request.primary_key, false}};
  for (const auto &k : request.restore_keys)
    attempts.push_back({&k, true});

  for (const auto &attempt : attempts) {
    const std::string &key = *attempt.key;
    if (key.empty()) continue;
    for (const auto &ref : request.refs) {
      const EntryManifest *exact = nullptr;
      const EntryManifest *newest = nullptr;
      const auto candidates = list_scope(ref, key);
      for (const auto &c : candidates) {
        if (c.version != request.version || !c.key.starts_with(key)) continue;
        if (c.key == key) {
          if (!exact || c.created_ms > exact->created_ms) exact = &c;
        } else if (attempt.prefix_allowed && (!newest || c.created_ms > newest->created_ms)) {
          newest = &c;
        }
      }
      const EntryManifest *chosen = exact ? exact : newest;
      if (chosen) return LookupResult{*chosen, chosen->key == request.primary_key};
    }
  }
  return std::nullopt;
}

} // namespace cachekit::storage
