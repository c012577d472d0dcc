#pragma once
// Operator commands over any backend: list, remove, prune by age / size budget / last use.
#include "storage/backend.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace cachekit::engine {

struct PruneRequest {
  std::optional<std::chrono::seconds> max_age; // evict entries not used for longer
  std::optional<uint64_t> max_total_size;      // evict least recently used until under
  size_t keep_last_used = 0;                   // never evict the N most recently used
  bool dry_run = false;
  storage::ListFilter filter;
};

struct PruneOutcome {
  std::vector<storage::EntryManifest> evicted;
  uint64_t freed_bytes = 0;
  uint64_t kept_bytes = 0;
  size_t kept = 0;
};

// The entries prune would evict, least recently used first. Pure: unit-testable.
std::vector<storage::EntryManifest> select_evictions(std::vector<storage::EntryManifest> entries,
                                                     const PruneRequest &request, int64_t now_ms);

PruneOutcome prune(storage::Backend &backend, const PruneRequest &request);

} // namespace cachekit::engine
