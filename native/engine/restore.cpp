#include "engine/restore.hpp"

#include "engine/paths.hpp"
#include "engine/pipeline.hpp"
#include "engine/version.hpp"
#include "util/error.hpp"
#include "util/log.hpp"
#include "util/strings.hpp"

namespace cachekit::engine {

RestoreOutcome restore(storage::Backend &backend, const RestoreRequest &request) {
  validate_keys(request.primary_key, request.restore_keys);
  const auto paths = resolve_cache_paths(request.path_patterns, request.workspace);
  RestoreOutcome outcome;
  outcome.version = cache_version(request.path_patterns);
  outcome.backend = backend.name();
  outcome.backend_description = backend.describe();

  if (!may_read(request.policy)) {
    outcome.note = "cache-policy is " + to_string(request.policy) + ": restore skipped";
    log::info("{}", outcome.note);
    return outcome;
  }

  storage::LookupRequest lookup{request.primary_key, request.restore_keys, outcome.version, request.scope.repository,
                                request.scope.read_refs()};
  const auto found = backend.lookup(lookup);
  if (!found) {
    std::vector<std::string> keys{request.primary_key};
    keys.insert(keys.end(), request.restore_keys.begin(), request.restore_keys.end());
    outcome.note = "cache not found for input keys: " + join(keys, ", ");
    if (backend.name() == "github") // the service's scopes come from the runtime token
      log::info("Cache not found for input keys: {} ({})", join(keys, ", "), backend.describe());
    else
      log::info("Cache not found for input keys: {} ({}, refs {})", join(keys, ", "), backend.describe(),
                join(lookup.refs, ", "));
    return outcome;
  }
  const auto &entry = found->entry;
  outcome.matched_key = entry.key;
  outcome.size = entry.size;
  if (entry.created_ms > 0)
    log::info("Cache hit for {}: '{}' ({}, ref {}, created {})", found->exact ? "the primary key" : "a restore key",
              entry.key, human_bytes(entry.size), entry.ref, iso8601_utc(entry.created_ms));
  else // the GitHub cache tells neither size nor age
    log::info("Cache hit for {}: '{}' ({})", found->exact ? "the primary key" : "a restore key", entry.key,
              backend.describe());

  if (request.lookup_only) {
    outcome.found = true;
    outcome.exact = found->exact;
    outcome.note = "lookup-only: nothing downloaded";
    log::info("lookup-only: the entry exists; nothing downloaded");
    return outcome;
  }

  archive::PathRules rules(request.workspace, paths.roots);
  try {
    auto source = backend.open(entry);
    const auto result = run_restore_pipeline(*source, entry.sha256, entry.size, rules);
    outcome.found = true;
    outcome.exact = found->exact;
    outcome.size = result.archive_bytes;
    outcome.files = result.extracted.files;
    outcome.skipped_symlinks = result.extracted.skipped_symlinks;
    outcome.seconds = result.seconds;
    log::info("Restored {} ({} archive, {} of files, {} files, {} dirs) in {:.2f}s, {}", entry.key,
              human_bytes(result.archive_bytes), human_bytes(result.extracted.data_bytes), result.extracted.files,
              result.extracted.directories, result.seconds, rate_mbs(result.archive_bytes, result.seconds));
  } catch (const IntegrityError &e) {
    // Files may have been written already; the run must not trust them as a hit.
    log::warning("Cache entry '{}' is damaged and was not used: {}. Treating this as a cache miss.", entry.key,
                 e.what());
    outcome = RestoreOutcome{};
    outcome.version = cache_version(request.path_patterns);
    outcome.backend = backend.name();
    outcome.backend_description = backend.describe();
    outcome.note = std::string("entry damaged: ") + e.what();
    return outcome;
  }
  if (outcome.found && outcome.skipped_symlinks > 0)
    log::warning("{} symlink(s) in '{}' point outside the cache paths and were not restored", outcome.skipped_symlinks,
                 entry.key);
  try {
    backend.record_use(entry);
  } catch (const std::exception &e) {
    log::warning("could not record the last use of '{}': {}", entry.key, e.what());
  }
  return outcome;
}

} // namespace cachekit::engine
