#pragma once
// Settings of the `github` backend (the GitHub Actions cache service v2), as the CLI resolved
// them. The runner hands ACTIONS_RESULTS_URL / ACTIONS_RUNTIME_TOKEN only to node actions, so
// the actions pass them to the helper's step through one pinned actions/github-script step
// (see docs/cli.md); neither value is ever written to the state file or logged.
#include <cstdint>
#include <string>

namespace cachekit::storage {

struct GithubSettings {
  std::string results_url; // ACTIONS_RESULTS_URL; only its origin is used (as @actions/cache does)
  std::string token;       // ACTIONS_RUNTIME_TOKEN, sent as a Bearer token; never logged
  int retry_count = 3;     // per twirp call and per blob request
  // Short, so a runner that cannot reach the service or the blob host (a self-hosted runner
  // without egress to GitHub or Azure) loses seconds, not minutes.
  int connect_timeout_seconds = 3;
  int stall_timeout_seconds = 30;
  uint64_t block_size = 16ull << 20; // Put Block size, single-PUT limit and download range size
  int concurrency = 4;               // blocks / ranges in flight
};

// "https://results-receiver.actions.githubusercontent.com/" -> "https://results-receiver…com".
// Any path is dropped, as the official client does. Throws UsageError for anything that is
// not an http(s) URL.
std::string results_origin(const std::string &results_url);

// Throws UsageError naming the input when the settings cannot work (missing token or URL,
// ranges); MissingCredentialsError when the token or URL is absent.
void validate(const GithubSettings &settings);

} // namespace cachekit::storage
