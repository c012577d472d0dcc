#include "cli/state.hpp"

#include "cli/options.hpp"
#include "util/error.hpp"
#include "util/strings.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

namespace cachekit::cli {

fs::path default_state_dir() {
  if (auto t = env("RUNNER_TEMP"); t && !t->empty()) return fs::path(*t) / "cachekit-state";
  const auto tmp = env("TMPDIR").value_or("/tmp");
  return fs::path(tmp.empty() ? "/tmp" : tmp) / fmt::format("cachekit-state-{}", ::getuid());
}

fs::path state_file(const fs::path &dir, const std::string &state_id) {
  std::string safe;
  for (char c : state_id)
    safe += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.') ? c : '_';
  if (safe.empty() || safe[0] == '.') throw UsageError(fmt::format("state-id: '{}' is not usable as a name", state_id));
  return dir / (safe + ".json");
}

void write_state(const fs::path &dir, const RestoreState &s) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw OperationError(fmt::format("cannot create the state directory {}: {}", dir.string(), ec.message()));
  nlohmann::json j{{"format", 1},
                   {"state_id", s.state_id},
                   {"path", s.path_patterns},
                   {"key", s.key},
                   {"version", s.version},
                   {"matched_key", s.matched_key},
                   {"exact_hit", s.exact_hit},
                   {"backend", s.backend},
                   {"local_dir", s.local_dir},
                   {"cache_policy", s.cache_policy},
                   {"workspace", s.workspace},
                   {"repository", s.repository},
                   {"ref", s.ref},
                   {"base_ref", s.base_ref},
                   {"default_branch", s.default_branch}};
  write_file_atomic(state_file(dir, s.state_id), j.dump(2) + "\n");
}

std::optional<RestoreState> read_state(const fs::path &dir, const std::string &state_id) {
  const auto path = state_file(dir, state_id);
  std::error_code ec;
  if (!fs::exists(path, ec)) return std::nullopt;
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
    s.cache_policy = j.value("cache_policy", "");
    s.workspace = j.value("workspace", "");
    s.repository = j.value("repository", "");
    s.ref = j.value("ref", "");
    s.base_ref = j.value("base_ref", "");
    s.default_branch = j.value("default_branch", "");
    return s;
  } catch (const nlohmann::json::exception &e) {
    throw OperationError(fmt::format("state file {} is unreadable: {}", path.string(), e.what()));
  }
}

} // namespace cachekit::cli
