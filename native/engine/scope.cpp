#include "engine/scope.hpp"

#include <algorithm>

namespace cachekit::engine {

std::string to_full_ref(const std::string &branch_or_ref) {
  if (branch_or_ref.empty() || branch_or_ref.starts_with("refs/")) return branch_or_ref;
  return "refs/heads/" + branch_or_ref;
}

std::vector<std::string> Scope::read_refs() const {
  std::vector<std::string> refs;
  for (const auto &r : {ref, to_full_ref(base_ref), to_full_ref(default_branch)})
    if (!r.empty() && std::find(refs.begin(), refs.end(), r) == refs.end()) refs.push_back(r);
  return refs;
}

} // namespace cachekit::engine
