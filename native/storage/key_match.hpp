#pragma once
// How a restore finds its entry — the one place that decides:
//  1. the primary key matches EXACTLY (a saved `K-x` never hits for `K`);
//  2. then each restore key in order: an exact match, else the newest entry whose key
//     starts with it.
// For each key, the scopes are tried in read order (own ref, PR base ref, default
// branch); the first scope with a match wins. Only entries of the same version count.
#include "storage/backend.hpp"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace cachekit::storage {

// Lists the committed entries of one ref whose key starts with `key_prefix`.
using ScopeLister = std::function<std::vector<EntryManifest>(const std::string &ref, const std::string &key_prefix)>;

std::optional<LookupResult> select_entry(const LookupRequest &request, const ScopeLister &list_scope);

} // namespace cachekit::storage
