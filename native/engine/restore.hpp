#pragma once
// Restore orchestration: validate, look up, stream onto disk, verify, record use.
#include "engine/keys.hpp"
#include "engine/scope.hpp"
#include "storage/backend.hpp"
#include "util/fs.hpp"

#include <string>
#include <vector>

namespace cachekit::engine {

struct RestoreRequest {
  std::vector<std::string> path_patterns; // raw `path` lines (they also make the version)
  std::string primary_key;
  std::vector<std::string> restore_keys;
  fs::path workspace;
  Scope scope;
  CachePolicy policy = CachePolicy::ReadWrite;
  bool lookup_only = false;
};

struct RestoreOutcome {
  bool found = false; // an entry was restored (or found, with lookup_only)
  bool exact = false; // ... and its key equals the primary key
  std::string matched_key;
  std::string version;
  uint64_t size = 0;
  uint64_t files = 0;
  uint64_t skipped_symlinks = 0;
  double seconds = 0;
  std::string note; // why it missed or was skipped, for the log and summary
  // Which backend answered (name, e.g. "s3"; describe(), e.g. "s3://bucket/prefix") and, when
  // the GitHub-cache fallback did, why (engine/fallback.hpp).
  std::string backend;
  std::string backend_description;
  std::string fallback_reason;
};

RestoreOutcome restore(storage::Backend &backend, const RestoreRequest &request);

} // namespace cachekit::engine
