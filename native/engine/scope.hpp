#pragma once
// Which refs a run reads and writes: it writes only its own ref and reads its own ref,
// then the PR base branch, then the default branch (as the GitHub cache does).
#include <string>
#include <vector>

namespace cachekit::engine {

struct Scope {
  std::string repository;     // owner/name
  std::string ref;            // e.g. refs/heads/main, refs/pull/7/merge
  std::string base_ref;       // PR base branch name or ref; empty outside PRs
  std::string default_branch; // branch name or ref

  std::vector<std::string> read_refs() const;
};

// "main" -> "refs/heads/main"; full refs are kept.
std::string to_full_ref(const std::string &branch_or_ref);

} // namespace cachekit::engine
