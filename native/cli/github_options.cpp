#include "cli/github_options.hpp"

#include "util/log.hpp"
#include "util/strings.hpp"

namespace cachekit::cli {

const std::vector<OptionSpec> kGithubOptions = {
    {"github-results-url"},     {"github-token"},           {"use-fallback", true},
    {"fallback-on-miss", true}, {"github-connect-timeout"},
};

storage::GithubSettings resolve_github_settings(const Options &o, const storage::S3Settings &transfer) {
  storage::GithubSettings g;
  auto pick = [&](const char *name, const char *runner_var) {
    if (auto v = o.get(name); v && !trim(*v).empty()) return *v;
    if (auto v = env(runner_var); v && !trim(*v).empty()) return *v;
    return std::string();
  };
  g.results_url = trim(pick("github-results-url", "ACTIONS_RESULTS_URL"));
  g.token = trim(pick("github-token", "ACTIONS_RUNTIME_TOKEN"));
  log::add_secret(g.token);
  if (auto v = o.get("github-connect-timeout"); v && !trim(*v).empty())
    g.connect_timeout_seconds = static_cast<int>(parse_duration(*v, "github-connect-timeout").count());
  g.retry_count = transfer.retry_count;
  g.stall_timeout_seconds = transfer.stall_timeout_seconds;
  g.block_size = transfer.part_size;
  g.concurrency = transfer.concurrency;
  return g;
}

FallbackSettings resolve_fallback(const Options &o, const std::optional<FallbackSettings> &from_state) {
  FallbackSettings f = from_state.value_or(FallbackSettings{});
  f.use_fallback = o.get_bool("use-fallback", f.use_fallback);
  f.fallback_on_miss = o.get_bool("fallback-on-miss", f.fallback_on_miss);
  return f;
}

std::string github_unavailable_reason(const storage::GithubSettings &g) {
  if (g.token.empty() && g.results_url.empty())
    return "no ACTIONS_RUNTIME_TOKEN / ACTIONS_RESULTS_URL: the runner gives them only to node actions; the cachekit "
           "actions pass them from an actions/github-script step";
  if (g.token.empty()) return "no runtime token (github-token / ACTIONS_RUNTIME_TOKEN)";
  if (g.results_url.empty()) return "no results URL (github-results-url / ACTIONS_RESULTS_URL)";
  return "";
}

} // namespace cachekit::cli
