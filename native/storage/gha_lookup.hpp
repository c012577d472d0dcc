#pragma once
// How a restore finds its entry in the GitHub cache. The service matches on its own terms:
// the primary key exactly, then the primary key AS A PREFIX, then each restore key exactly and
// as a prefix (newest first). cachekit's primary key matches exactly only (key_match.hpp): a
// saved `K-x` must never hit for `K`. So when the service answers with a key that merely
// starts with the primary key (or equals it but for case), the answer is discarded and the
// service is asked again with the restore keys alone, whose prefix matching is wanted.
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace cachekit::storage::gha {

struct ServiceMatch {
  std::string matched_key;
  std::string download_url;
};

// One GetCacheEntryDownloadURL call: (key, restore_keys) -> the service's match, or nullopt.
using ServiceQuery =
    std::function<std::optional<ServiceMatch>(const std::string &key, const std::vector<std::string> &restore_keys)>;

struct ServiceLookup {
  ServiceMatch match;
  bool exact = false; // matched_key == primary key, byte for byte
};

std::optional<ServiceLookup> lookup_via_service(const std::string &primary_key,
                                                const std::vector<std::string> &restore_keys,
                                                const ServiceQuery &query);

} // namespace cachekit::storage::gha
