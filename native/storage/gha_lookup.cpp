#include "storage/gha_lookup.hpp"

#include "util/log.hpp"
#include "util/strings.hpp"

namespace cachekit::storage::gha {
namespace {

bool starts_with_ignoring_case(const std::string &s, const std::string &prefix) {
  return s.size() >= prefix.size() && to_lower(s.substr(0, prefix.size())) == to_lower(prefix);
}

} // namespace

std::optional<ServiceLookup> lookup_via_service(const std::string &primary_key,
                                                const std::vector<std::string> &restore_keys,
                                                const ServiceQuery &query) {
  auto match = query(primary_key, restore_keys);
  if (!match) return std::nullopt;
  if (match->matched_key == primary_key) return ServiceLookup{std::move(*match), true};
  if (!starts_with_ignoring_case(match->matched_key, primary_key)) return ServiceLookup{std::move(*match), false};

  // A prefix match of the primary key: the service's rule, not ours.
  log::debug("the GitHub cache matched '{}' as a prefix of the primary key '{}'; not an exact hit, asking again "
             "with the restore keys alone",
             match->matched_key, primary_key);
  if (restore_keys.empty()) return std::nullopt;
  const std::vector<std::string> rest(restore_keys.begin() + 1, restore_keys.end());
  match = query(restore_keys.front(), rest);
  if (!match) return std::nullopt;
  const bool exact = match->matched_key == primary_key;
  return ServiceLookup{std::move(*match), exact};
}

} // namespace cachekit::storage::gha
