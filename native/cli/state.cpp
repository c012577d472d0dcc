#include "cli/state.hpp"

#include "cli/options.hpp"
#include "cli/s3_options.hpp"
#include "util/error.hpp"
#include "util/strings.hpp"

#include "util/sha256.hpp"

#include <algorithm>
#include <cstdio>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

namespace cachekit::cli {

fs::path default_state_dir() {
  if (auto t = env("RUNNER_TEMP"); t && !t->empty()) return fs::path(*t) / "cachekit-state";
  const auto tmp = env("TMPDIR").value_or("/tmp");
  return fs::path(tmp.empty() ? "/tmp" : tmp) / fmt::format("cachekit-state-{}", ::getuid());
}

fs::path state_group_dir(const fs::path &dir, const std::string &state_id) {
  std::string safe;
  for (char c : state_id)
    safe += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.') ? c : '_';
  if (safe.empty() || safe[0] == '.') throw UsageError(fmt::format("state-id: '{}' is not usable as a name", state_id));
  return dir / safe;
}

fs::path write_state(const fs::path &dir, const RestoreState &s) {
  const auto group = state_group_dir(dir, s.state_id);
  std::error_code ec;
  fs::create_directories(group, ec);
  if (ec) throw OperationError(fmt::format("cannot create the state directory {}: {}", group.string(), ec.message()));
  nlohmann::json j{{"format", 1},
                   {"state_id", s.state_id},
                   {"path", s.path_patterns},
                   {"key", s.key},
                   {"version", s.version},
                   {"matched_key", s.matched_key},
                   {"exact_hit", s.exact_hit},
                   {"backend", s.backend},
                   {"local_dir", s.local_dir},
                   {"s3", s3_settings_to_state(s.s3)},
                   {"cache_policy", s.cache_policy},
                   {"workspace", s.workspace},
                   {"repository", s.repository},
                   {"ref", s.ref},
                   {"base_ref", s.base_ref},
                   {"default_branch", s.default_branch},
                   {"use_fallback", s.use_fallback},
                   {"fallback_on_miss", s.fallback_on_miss},
                   {"served_by", s.served_by},
                   {"fallback_reason", s.fallback_reason}};
  // One file per (version, key): two uses of one action in a job keep separate states.
  auto path = group / (Sha256::hex(s.version + "\n" + s.key).substr(0, 16) + ".json");
  write_file_atomic(path, j.dump(2) + "\n");
  return path;
}

std::vector<StateFile> list_states(const fs::path &dir, const std::string &state_id) {
  std::vector<StateFile> out;
  std::error_code ec;
  for (fs::directory_iterator it(state_group_dir(dir, state_id), ec), end; !ec && it != end; it.increment(ec))
    if (it->path().extension() == ".json") out.push_back({it->path(), read_state(it->path(), state_id)});
  std::sort(out.begin(), out.end(), [](const auto &a, const auto &b) { return a.path < b.path; });
  return out;
}

void mark_saved(const fs::path &state_path) {
  auto done = state_path;
  done += ".saved";
  if (::rename(state_path.c_str(), done.c_str()) != 0)
    throw_errno("cannot mark the state " + state_path.string() + " as saved");
}

RestoreState read_state(const fs::path &path, const std::string &state_id) {
  try {
    const auto j = nlohmann::json::parse(read_file(path));
    RestoreState s;
    s.state_id = j.value("state_id", state_id);
    s.path_patterns = j.value("path", std::vector<std::string>{});
    s.key = j.value("key", "");
    s.version = j.value("version", "");
    s.matched_key = j.value("matched_key", "");
    s.exact_hit = j.value("exact_hit", false);
    s.backend = j.value("backend", "");
    s.local_dir = j.value("local_dir", "");
    if (j.contains("s3")) s.s3 = s3_settings_from_state(j.at("s3"));
    s.cache_policy = j.value("cache_policy", "");
    s.workspace = j.value("workspace", "");
    s.repository = j.value("repository", "");
    s.ref = j.value("ref", "");
    s.base_ref = j.value("base_ref", "");
    s.default_branch = j.value("default_branch", "");
    s.use_fallback = j.value("use_fallback", false);
    s.fallback_on_miss = j.value("fallback_on_miss", false);
    s.served_by = j.value("served_by", "");
    s.fallback_reason = j.value("fallback_reason", "");
    return s;
  } catch (const nlohmann::json::exception &e) {
    throw OperationError(fmt::format("state file {} is unreadable: {}", path.string(), e.what()));
  }
}

} // namespace cachekit::cli
