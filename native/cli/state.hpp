#pragma once
// What restore hands to save: a JSON file under $RUNNER_TEMP, one per --state-id, so
// the save step needs no repeated inputs. Never holds secrets.
#include "storage/s3_settings.hpp"
#include "util/fs.hpp"

#include <optional>
#include <string>
#include <vector>

namespace cachekit::cli {

struct RestoreState {
  std::string state_id;
  std::vector<std::string> path_patterns;
  std::string key;
  std::string version;
  std::string matched_key;
  bool exact_hit = false;
  std::string backend; // the primary backend type
  std::string local_dir;
  storage::S3Settings s3; // non-secret fields only are written
  std::string cache_policy;
  std::string workspace;
  std::string repository;
  std::string ref;
  std::string base_ref;
  std::string default_branch;
  // The GitHub-cache fallback: whether it is on (so the save step knows whether it needs the
  // runtime token — which itself is never stored), and which backend served the restore, why.
  bool use_fallback = false;
  bool fallback_on_miss = false;
  std::string served_by;       // backend name; empty on a miss
  std::string fallback_reason; // set when the GitHub fallback served
};

fs::path default_state_dir();
// States live in <dir>/<state-id>/<hash of version and key>.json; a save marks each one
// it handled as <name>.json.saved, so a second save step does not repeat it.
struct StateFile {
  fs::path path;
  RestoreState state;
};
fs::path state_group_dir(const fs::path &dir, const std::string &state_id);
fs::path write_state(const fs::path &dir, const RestoreState &state);
RestoreState read_state(const fs::path &path, const std::string &state_id);
// The states a save still has to handle, in a stable order.
std::vector<StateFile> list_states(const fs::path &dir, const std::string &state_id);
void mark_saved(const fs::path &state_path);

} // namespace cachekit::cli
