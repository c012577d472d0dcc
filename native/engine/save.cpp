#include "engine/save.hpp"

#include "engine/paths.hpp"
#include "engine/pipeline.hpp"
#include "engine/version.hpp"
#include "util/error.hpp"
#include "util/log.hpp"
#include "util/strings.hpp"

#include <chrono>

namespace cachekit::engine {

SaveOutcome save(storage::Backend &backend, const SaveRequest &request) {
  SaveOutcome outcome;
  validate_key(request.key, "key");
  const auto paths = resolve_cache_paths(request.path_patterns, request.workspace);
  outcome.version = cache_version(request.path_patterns);
  outcome.backend = backend.name();
  outcome.backend_description = backend.describe();

  auto skip = [&](std::string reason, bool warn = false) {
    outcome.skipped_reason = std::move(reason);
    outcome.warned = warn;
    if (warn)
      log::warning("Not saving: {}", outcome.skipped_reason);
    else
      log::info("Not saving: {}", outcome.skipped_reason);
    return outcome;
  };
  if (!may_write(request.policy)) return skip("cache-policy is " + to_string(request.policy));
  if (request.restored_exact) return skip("the primary key '" + request.key + "' was restored exactly");
  if (paths.existing.empty()) return skip("none of the cache paths exist (" + join(request.path_patterns, ", ") + ")");
  if (backend.exists(request.scope.repository, request.scope.ref, outcome.version, request.key))
    return skip("an entry for '" + request.key + "' already exists in " + request.scope.ref + " (first writer wins)");

  // Walk before anything is written: an unreadable path is bad input, reported with
  // nothing stored.
  const auto walk_start = std::chrono::steady_clock::now();
  const auto entries = archive::plan_entries(request.workspace, paths.existing);
  log::info("Listed {} entries under {} path(s) in {:.2f}s", entries.entries.size(), paths.existing.size(),
            std::chrono::duration<double>(std::chrono::steady_clock::now() - walk_start).count());
  std::unique_ptr<storage::EntryWriter> writer;
  try {
    writer = backend.create(request.scope.repository, request.scope.ref, outcome.version, request.key);
  } catch (const storage::SaveDeclined &e) {
    return skip(e.what(), e.warn());
  }
  const auto result = run_save_pipeline(entries, *writer, request.compression);

  storage::EntryManifest manifest;
  manifest.key = request.key;
  manifest.version = outcome.version;
  manifest.repository = request.scope.repository;
  manifest.ref = request.scope.ref;
  manifest.size = result.archive_bytes;
  manifest.sha256 = result.sha256;
  manifest.created_ms = unix_millis_now();
  manifest.run_id = request.run_id;
  manifest.commit = request.commit;
  manifest.tool_version = CACHEKIT_VERSION;
  if (!writer->commit(manifest))
    return skip("another job saved '" + request.key + "' first (first writer wins); this copy was discarded");

  outcome.saved = true;
  outcome.size = result.archive_bytes;
  outcome.tree_bytes = result.tar.data_bytes;
  outcome.files = result.tar.files;
  outcome.seconds = result.seconds;
  log::debug("read-ahead: {}", result.tar.read_ahead ? "on (some files were not in the page cache)"
                                                     : "off (every file was in the page cache)");
  log::info("Saved {} ({} files, {} of files -> {} archive) to {} in {:.2f}s, {}", request.key, result.tar.files,
            human_bytes(result.tar.data_bytes), human_bytes(result.archive_bytes), backend.describe(), result.seconds,
            rate_mbs(result.tar.data_bytes, result.seconds));
  return outcome;
}

} // namespace cachekit::engine
