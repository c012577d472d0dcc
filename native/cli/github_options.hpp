#pragma once
// The GitHub-cache inputs (each a --flag and a CACHEKIT_* variable, see docs/cli.md):
// --github-results-url / --github-token, falling back to the runner's ACTIONS_RESULTS_URL /
// ACTIONS_RUNTIME_TOKEN; --use-fallback and --fallback-on-miss (flag > the restore step's
// state > false); --github-connect-timeout. The token is registered for masking here and
// never reaches the state file; the URL and token are not written there either.
#include "cli/options.hpp"
#include "storage/gha_settings.hpp"
#include "storage/s3_settings.hpp"

#include <optional>
#include <string>
#include <vector>

namespace cachekit::cli {

extern const std::vector<OptionSpec> kGithubOptions;

// Transfer settings (retry-count, stall-timeout, part-size, concurrency) are shared with S3.
storage::GithubSettings resolve_github_settings(const Options &o, const storage::S3Settings &transfer);

struct FallbackSettings {
  bool use_fallback = false;
  bool fallback_on_miss = false;
};
FallbackSettings resolve_fallback(const Options &o, const std::optional<FallbackSettings> &from_state);

// Why the GitHub cache cannot be used by this step; empty when it can.
std::string github_unavailable_reason(const storage::GithubSettings &settings);

} // namespace cachekit::cli
