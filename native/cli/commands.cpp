#include "cli/commands.hpp"

#include "cli/github_options.hpp"
#include "cli/options.hpp"
#include "cli/runner_io.hpp"
#include "cli/s3_options.hpp"
#include "cli/state.hpp"
#include "engine/fallback.hpp"
#include "engine/maintenance.hpp"
#include "engine/restore.hpp"
#include "engine/save.hpp"
#include "storage/factory.hpp"
#include "storage/gha_backend.hpp"
#include "util/error.hpp"
#include "util/log.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <cstdio>
#include <fmt/format.h>
#include <thread>
#include <unistd.h>

namespace cachekit::cli {
namespace {

// Inputs shared by every command that talks to a backend.
const std::vector<OptionSpec> kCommon = {
    {"backend"},        {"local-dir"}, {"repository"}, {"ref"},       {"base-ref"},
    {"default-branch"}, {"workspace"}, {"state-id"},   {"state-dir"}, {"debug", true},
};

std::vector<OptionSpec> with_common(std::vector<OptionSpec> specs) {
  specs.insert(specs.end(), kCommon.begin(), kCommon.end());
  specs.insert(specs.end(), kS3Options.begin(), kS3Options.end());
  specs.insert(specs.end(), kGithubOptions.begin(), kGithubOptions.end());
  return specs;
}

struct Common {
  storage::BackendSettings backend;
  engine::Scope scope;
  fs::path workspace;
  fs::path state_dir;
  std::string state_id;
  FallbackSettings fallback;
};

std::string first_of(const Options &o, const std::string &name, const char *runner_var, const std::string &fallback) {
  if (auto v = o.get(name); v && !v->empty()) return *v;
  if (runner_var)
    if (auto v = env(runner_var); v && !v->empty()) return *v;
  return fallback;
}

Common resolve_common(const Options &o, const RestoreState *state) {
  if (o.get_bool("debug", env("RUNNER_DEBUG").value_or("") == "1")) log::set_debug(true);
  auto pick = [&](const std::string &name, const char *runner_var, const std::string &from_state,
                  const std::string &fallback) {
    if (auto v = o.get(name); v && !v->empty()) return *v;
    if (!from_state.empty()) return from_state;
    return first_of(o, name, runner_var, fallback);
  };
  Common c;
  c.backend.type = pick("backend", nullptr, state ? state->backend : "", "local");
  c.backend.local_dir = expand_home(pick("local-dir", nullptr, state ? state->local_dir : "", "~/.cache/cachekit"));
  c.backend.s3 = resolve_s3_settings(o, state ? &state->s3 : nullptr);
  c.backend.github = resolve_github_settings(o, c.backend.s3);
  c.fallback = resolve_fallback(
      o, state ? std::optional<FallbackSettings>({state->use_fallback, state->fallback_on_miss}) : std::nullopt);
  c.workspace = pick("workspace", "GITHUB_WORKSPACE", state ? state->workspace : "", fs::current_path().string());
  if (!c.workspace.is_absolute()) c.workspace = fs::absolute(c.workspace);
  c.workspace = normalize_lexically(c.workspace);
  c.scope.repository = pick("repository", "GITHUB_REPOSITORY", state ? state->repository : "", "local/local");
  c.scope.ref = pick("ref", "GITHUB_REF", state ? state->ref : "", "refs/heads/main");
  c.scope.base_ref = pick("base-ref", "GITHUB_BASE_REF", state ? state->base_ref : "", "");
  c.scope.default_branch = pick("default-branch", nullptr, state ? state->default_branch : "", "main");
  c.state_dir = o.get_or("state-dir", default_state_dir().string());
  c.state_id = o.get_or("state-id", "default");
  return c;
}

std::vector<std::string> lines_of(const Options &o, const std::string &name) {
  return split_lines(o.get_or(name, ""));
}

std::string required(const Options &o, const std::string &name, const std::string &expected) {
  auto v = o.get(name);
  if (!v || trim(*v).empty())
    throw UsageError(
        fmt::format("{}: missing (expected {}; pass --{} or set {})", name, expected, name, Options::env_name(name)));
  return trim(*v);
}

// Which backends a restore or save may use: the configured one, and the GitHub cache as its
// fallback when the runtime token and URL reached this step (engine/fallback.hpp decides).
engine::BackendPlan make_plan(const Common &c) {
  engine::BackendPlan plan;
  plan.primary_type = c.backend.type;
  plan.primary = [settings = c.backend] { return storage::make_backend(settings); };
  plan.use_fallback = c.fallback.use_fallback;
  plan.fallback_on_miss = c.fallback.fallback_on_miss;
  plan.github_unavailable = github_unavailable_reason(c.backend.github);
  if (plan.github_unavailable.empty())
    plan.github = [settings = c.backend] {
      auto github = settings;
      github.type = "github";
      return storage::make_backend(github);
    };
  return plan;
}

// The job summary's backend cell: where, and why when the fallback served.
std::string summary_backend(const std::string &backend, const std::string &description, const std::string &reason) {
  const auto where = description.empty() ? backend : description;
  return reason.empty() ? where : where + " (fallback: " + reason + ")";
}

void refuse_github_operator_commands(const Common &c) {
  if (c.backend.type == "github") throw UsageError(storage::kGithubNoOperatorCommands);
}

archive::CompressionSettings compression_from(const Options &o) {
  archive::CompressionSettings c;
  c.level = parse_int(o.get_or("compression-level", "3"), "compression-level", 1, 19);
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  c.threads = parse_int(o.get_or("threads", std::to_string(cores)), "threads", 0, 256);
  return c;
}

} // namespace

int run_restore(const std::vector<std::string> &args) {
  const Options o(with_common({{"path", false, true},
                               {"key"},
                               {"restore-keys", false, true},
                               {"cache-policy"},
                               {"lookup-only", true},
                               {"fail-on-cache-miss", true}}),
                  args);
  const auto c = resolve_common(o, nullptr);
  engine::RestoreRequest request;
  request.path_patterns = lines_of(o, "path");
  if (request.path_patterns.empty())
    throw UsageError("path: missing (expected one or more paths, one per line; pass --path or set CACHEKIT_PATH)");
  request.primary_key = required(o, "key", "a cache key");
  request.restore_keys = lines_of(o, "restore-keys");
  request.workspace = c.workspace;
  request.scope = c.scope;
  request.policy = engine::parse_cache_policy(o.get_or("cache-policy", "read-write"));
  request.lookup_only = o.get_bool("lookup-only", false);
  const bool fail_on_miss = o.get_bool("fail-on-cache-miss", false);

  const auto outcome = engine::restore_with_fallback(make_plan(c), request);
  if (outcome.found && !outcome.fallback_reason.empty())
    log::info("Served by the GitHub cache (fallback: {})", outcome.fallback_reason);

  RestoreState state;
  state.state_id = c.state_id;
  state.path_patterns = request.path_patterns;
  state.key = request.primary_key;
  state.version = outcome.version;
  state.matched_key = outcome.matched_key;
  state.exact_hit = outcome.exact;
  state.backend = c.backend.type;
  state.local_dir = c.backend.local_dir;
  state.s3 = c.backend.s3;
  state.cache_policy = engine::to_string(request.policy);
  state.workspace = c.workspace.string();
  state.repository = c.scope.repository;
  state.ref = c.scope.ref;
  state.base_ref = c.scope.base_ref;
  state.default_branch = c.scope.default_branch;
  state.use_fallback = c.fallback.use_fallback;
  state.fallback_on_miss = c.fallback.fallback_on_miss;
  state.served_by = outcome.found ? outcome.backend : "";
  state.fallback_reason = outcome.found ? outcome.fallback_reason : "";
  write_state(c.state_dir, state);

  write_outputs(
      {{"cache-hit", outcome.exact ? "true" : "false"},
       {"cache-primary-key", request.primary_key},
       {"cache-matched-key", outcome.matched_key},
       {"cache-size", std::to_string(outcome.found ? outcome.size : 0)},
       {"cache-backend", outcome.found ? engine::backend_label(outcome.backend, outcome.fallback_reason) : ""}});
  append_summary({"restore", request.primary_key,
                  outcome.found ? (outcome.exact ? "hit" : "restore-key hit") : "miss: " + outcome.note,
                  outcome.matched_key,
                  summary_backend(outcome.backend, outcome.backend_description, outcome.fallback_reason), outcome.size,
                  outcome.seconds});

  if (!outcome.found && fail_on_miss) {
    log::error("Failed to restore cache entry. Exiting as fail-on-cache-miss is set. Input key: {}",
               request.primary_key);
    return 1;
  }
  return 0;
}

namespace {

// Saves one entry: from a restore step's state, from flags, or both (flags win).
bool save_one(const Options &o, const RestoreState *state) {
  const auto c = resolve_common(o, state);
  engine::SaveRequest request;
  request.path_patterns =
      o.given("path") ? lines_of(o, "path") : (state ? state->path_patterns : std::vector<std::string>{});
  if (request.path_patterns.empty())
    throw UsageError("path: missing (expected one or more paths, one per line; pass --path or set CACHEKIT_PATH)");
  request.key = o.given("key") ? trim(*o.get("key")) : (state ? state->key : "");
  request.workspace = c.workspace;
  request.scope = c.scope;
  request.policy = engine::parse_cache_policy(
      o.get_or("cache-policy", state && !state->cache_policy.empty() ? state->cache_policy : "read-write"));
  // An exact hit served by the GitHub fallback does not make the primary backend have it.
  request.restored_exact = state && state->exact_hit && state->key == request.key &&
                           (state->served_by.empty() || state->served_by == c.backend.type);
  request.compression = compression_from(o);
  request.run_id = env("GITHUB_RUN_ID").value_or("");
  request.commit = env("GITHUB_SHA").value_or("");

  const auto outcome = engine::save_with_fallback(make_plan(c), request);
  if (outcome.saved && !outcome.fallback_reason.empty())
    log::info("Saved to the GitHub cache (fallback: {})", outcome.fallback_reason);
  write_outputs(
      {{"cache-primary-key", request.key},
       {"cache-size", std::to_string(outcome.size)},
       {"cache-backend", outcome.saved ? engine::backend_label(outcome.backend, outcome.fallback_reason) : ""}});
  append_summary({"save", request.key, outcome.saved ? "saved" : "skipped: " + outcome.skipped_reason, "",
                  summary_backend(outcome.backend, outcome.backend_description, outcome.fallback_reason), outcome.size,
                  outcome.seconds});
  return outcome.saved;
}

} // namespace

int run_save(const std::vector<std::string> &args) {
  const Options o(with_common({{"path", false, true},
                               {"key"},
                               {"cache-policy"},
                               {"compression-level"},
                               {"threads"},
                               {"job-status"},
                               {"check-github", true}}),
                  args);
  const fs::path state_dir = o.get_or("state-dir", default_state_dir().string());
  const auto state_id = o.get_or("state-id", "default");

  const auto status = o.get("job-status");
  const bool cancelled = status && to_lower(*status) == "cancelled";
  auto states = list_states(state_dir, state_id);
  if (o.get_bool("check-github", false)) {
    // For the save actions: run their actions/github-script step (which hands the save step
    // the runtime token) only when a pending save may use the GitHub cache.
    bool needed = false;
    if (cancelled) states.clear();
    for (const auto &s : states) {
      const auto c = resolve_common(o, &s.state);
      needed = needed || engine::needs_github(c.backend.type, c.fallback.use_fallback);
    }
    if (states.empty() && !cancelled && o.given("backend")) {
      const auto c = resolve_common(o, nullptr);
      needed = engine::needs_github(c.backend.type, c.fallback.use_fallback);
    }
    write_outputs({{"github-needed", needed ? "true" : "false"}});
    return 0;
  }
  if (cancelled) {
    log::info("Not saving: the job was cancelled");
    write_outputs({{"cache-saved", "false"}});
    return 0;
  }
  if (o.given("key") || o.given("path")) {
    // An explicit save; a restore state for the same key still supplies the settings.
    const auto key = trim(o.get_or("key", ""));
    const auto match = std::find_if(states.begin(), states.end(), [&](const auto &s) { return s.state.key == key; });
    const bool saved =
        save_one(o, match != states.end() ? &match->state : (states.size() == 1 ? &states.front().state : nullptr));
    write_outputs({{"cache-saved", saved ? "true" : "false"}});
    return 0;
  }
  if (states.empty()) {
    log::info("Not saving: no state from a restore step (looked in {}) and no --key/--path given",
              state_group_dir(state_dir, state_id).string());
    write_outputs({{"cache-saved", "false"}});
    return 0;
  }
  // Every restore of this state id in the job gets its save (e.g. one action used twice).
  bool any_saved = false;
  for (const auto &s : states) {
    any_saved = save_one(o, &s.state) || any_saved;
    mark_saved(s.path);
  }
  write_outputs({{"cache-saved", any_saved ? "true" : "false"}}); // once: true when any entry was stored
  return 0;
}

int run_ls(const std::vector<std::string> &args) {
  const Options o(with_common({{"key-prefix"}, {"all-refs", true}}), args);
  const auto c = resolve_common(o, nullptr);
  refuse_github_operator_commands(c);
  auto backend = storage::make_backend(c.backend);
  storage::ListFilter filter{o.get_or("repository", ""), o.get_or("ref", ""), o.get_or("key-prefix", "")};
  auto entries = backend->list(filter);
  std::sort(entries.begin(), entries.end(),
            [](const auto &a, const auto &b) { return a.last_used_ms > b.last_used_ms; });
  const auto now = unix_millis_now();
  std::printf("%-10s %-8s %-8s %-12s %-24s %s\n", "SIZE", "AGE", "USED", "VERSION", "REF", "KEY");
  uint64_t total = 0;
  for (const auto &e : entries) {
    total += e.size;
    std::printf("%-10s %-8s %-8s %-12s %-24s %s\n", human_bytes(e.size).c_str(),
                human_duration(std::chrono::seconds((now - e.created_ms) / 1000)).c_str(),
                human_duration(std::chrono::seconds((now - e.last_used_ms) / 1000)).c_str(),
                e.version.substr(0, 12).c_str(), e.ref.c_str(), e.key.c_str());
  }
  std::printf("%zu entries, %s\n", entries.size(), human_bytes(total).c_str());
  return 0;
}

int run_rm(const std::vector<std::string> &args) {
  const Options o(with_common({{"key"}, {"prefix"}, {"dry-run", true}}), args);
  const auto c = resolve_common(o, nullptr);
  refuse_github_operator_commands(c);
  const auto key = o.get_or("key", "");
  const auto prefix = o.get_or("prefix", "");
  if (key.empty() == prefix.empty())
    throw UsageError("rm: give exactly one of --key (exact key) or --prefix (key prefix)");
  auto backend = storage::make_backend(c.backend);
  storage::ListFilter filter{o.get_or("repository", ""), o.get_or("ref", ""), key.empty() ? prefix : key};
  const bool dry_run = o.get_bool("dry-run", false);
  size_t removed = 0;
  for (const auto &e : backend->list(filter)) {
    if (!key.empty() && e.key != key) continue;
    log::info("{} {} ({}, {}, {})", dry_run ? "would remove" : "removing", e.key, e.repository, e.ref,
              human_bytes(e.size));
    if (!dry_run) backend->remove(e);
    ++removed;
  }
  if (!dry_run) backend->collect_garbage(600);
  std::printf("%s %zu entries\n", dry_run ? "would remove" : "removed", removed);
  return 0;
}

int run_prune(const std::vector<std::string> &args) {
  const Options o(with_common({{"max-age"}, {"max-total-size"}, {"keep-last-used"}, {"dry-run", true}}), args);
  const auto c = resolve_common(o, nullptr);
  refuse_github_operator_commands(c);
  engine::PruneRequest request;
  if (auto v = o.get("max-age")) request.max_age = parse_duration(*v, "max-age");
  if (auto v = o.get("max-total-size")) request.max_total_size = parse_size(*v, "max-total-size");
  if (auto v = o.get("keep-last-used"))
    request.keep_last_used = static_cast<size_t>(parse_int(*v, "keep-last-used", 0, 1000000));
  if (!request.max_age && !request.max_total_size)
    throw UsageError("prune: give --max-age (e.g. 7d) and/or --max-total-size (e.g. 10G)");
  request.dry_run = o.get_bool("dry-run", false);
  request.filter = {o.get_or("repository", ""), o.get_or("ref", ""), ""};
  auto backend = storage::make_backend(c.backend);
  const auto outcome = engine::prune(*backend, request);
  std::printf("%s %zu entries (%s), kept %zu entries (%s)\n", request.dry_run ? "would evict" : "evicted",
              outcome.evicted.size(), human_bytes(outcome.freed_bytes).c_str(), outcome.kept,
              human_bytes(outcome.kept_bytes).c_str());
  return 0;
}

int run_version() {
  std::printf("cachekit %s\n", CACHEKIT_VERSION);
  return 0;
}

void print_help() {
  std::printf("%s",
              "usage: cachekit <command> [options]\n"
              "commands:\n"
              "  restore   restore a cache entry (--path, --key, --restore-keys, --lookup-only, --fail-on-cache-miss)\n"
              "  save      save a cache entry (reads the restore step's state; --path/--key override)\n"
              "  ls        list entries (--repository, --ref, --key-prefix)\n"
              "  rm        remove entries (--key K | --prefix P, --ref, --dry-run)\n"
              "  prune     evict entries (--max-age 7d, --max-total-size 10G, --keep-last-used N, --dry-run)\n"
              "  version   print the version\n"
              "common options: --backend local|s3|github, --local-dir DIR, --repository, --ref, --base-ref,\n"
              "  --default-branch, --workspace, --state-id, --state-dir, --cache-policy\n"
              "GitHub cache: --github-results-url, --github-token, --use-fallback, --fallback-on-miss\n"
              "every --some-option can also be set as CACHEKIT_SOME_OPTION. See docs/cli.md.\n");
}

} // namespace cachekit::cli
