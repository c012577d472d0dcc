#include "engine/maintenance.hpp"

#include "util/log.hpp"
#include "util/strings.hpp"

#include <algorithm>

namespace cachekit::engine {

std::vector<storage::EntryManifest> select_evictions(std::vector<storage::EntryManifest> entries,
                                                     const PruneRequest &request, int64_t now_ms) {
  // Most recently used first.
  std::sort(entries.begin(), entries.end(),
            [](const auto &a, const auto &b) { return a.last_used_ms > b.last_used_ms; });
  std::vector<storage::EntryManifest> evicted;
  uint64_t kept_bytes = 0;
  for (size_t i = 0; i < entries.size(); ++i) {
    const auto &e = entries[i];
    bool evict = false;
    if (i >= request.keep_last_used) {
      if (request.max_age && now_ms - e.last_used_ms > request.max_age->count() * 1000) evict = true;
      if (request.max_total_size && kept_bytes + e.size > *request.max_total_size) evict = true;
    }
    if (evict)
      evicted.push_back(e);
    else
      kept_bytes += e.size;
  }
  std::reverse(evicted.begin(), evicted.end()); // least recently used first
  return evicted;
}

PruneOutcome prune(storage::Backend &backend, const PruneRequest &request) {
  const auto entries = backend.list(request.filter);
  PruneOutcome outcome;
  outcome.evicted = select_evictions(entries, request, unix_millis_now());
  uint64_t total = 0;
  for (const auto &e : entries)
    total += e.size;
  for (const auto &e : outcome.evicted) {
    log::info("{} {} ({}, {}, last used {} ago)", request.dry_run ? "would evict" : "evicting", e.key, e.ref,
              human_bytes(e.size), human_duration(std::chrono::seconds((unix_millis_now() - e.last_used_ms) / 1000)));
    if (!request.dry_run) backend.remove(e);
    outcome.freed_bytes += e.size;
  }
  outcome.kept = entries.size() - outcome.evicted.size();
  outcome.kept_bytes = total - outcome.freed_bytes;
  // Entries account for the freed bytes; this only sweeps orphaned blobs and leftovers.
  if (!request.dry_run) backend.collect_garbage(600);
  return outcome;
}

} // namespace cachekit::engine
