#pragma once
// What restore hands to save: a JSON file under $RUNNER_TEMP, one per --state-id, so
// the save step needs no repeated inputs. Never holds secrets.
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
  std::string cache_policy;
  std::string workspace;
  std::string repository;
  std::string ref;
  std::string base_ref;
  std::string default_branch;
};

fs::path default_state_dir();
fs::path state_file(const fs::path &dir, const std::string &state_id);
void write_state(const fs::path &dir, const RestoreState &state);
std::optional<RestoreState> read_state(const fs::path &dir, const std::string &state_id);

} // namespace cachekit::cli
