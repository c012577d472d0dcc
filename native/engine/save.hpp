#pragma once
// Save orchestration: policy and skip rules, then stream the tree into a new entry and
// publish it (first writer wins).
#include "archive/zstd_stream.hpp"
#include "engine/keys.hpp"
#include "engine/scope.hpp"
#include "storage/backend.hpp"
#include "util/fs.hpp"

#include <string>
#include <vector>

namespace cachekit::engine {

struct SaveRequest {
  std::vector<std::string> path_patterns;
  std::string key;
  fs::path workspace;
  Scope scope;
  CachePolicy policy = CachePolicy::ReadWrite;
  bool restored_exact = false; // from the restore step's state
  archive::CompressionSettings compression;
  std::string run_id;
  std::string commit;
};

struct SaveOutcome {
  bool saved = false;
  std::string skipped_reason;
  std::string version;
  uint64_t size = 0;
  uint64_t tree_bytes = 0;
  uint64_t files = 0;
  double seconds = 0;
  bool warned = false; // the skip deserved a warning (rate limited, quota), not just a note
  // As in RestoreOutcome: the backend written to, and why when it was the GitHub fallback.
  std::string backend;
  std::string backend_description;
  std::string fallback_reason;
};

SaveOutcome save(storage::Backend &backend, const SaveRequest &request);

} // namespace cachekit::engine
