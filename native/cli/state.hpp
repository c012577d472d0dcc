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
  std::string backend;
  std::string local_dir;
  storage::S3Settings s3; // non-secret fields only are written
  std::string cache_policy;
  std::string workspace;
  std::string repository;
  std::string ref;
  std::string base_ref;
  std::string default_branch;
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
