#include "storage/gha_settings.hpp"

#include "util/error.hpp"
#include "util/strings.hpp"

#include <fmt/format.h>

namespace cachekit::storage {

std::string results_origin(const std::string &results_url) {
  const auto url = trim(results_url);
  const auto scheme_end = url.find("://");
  const auto scheme = scheme_end == std::string::npos ? std::string() : to_lower(url.substr(0, scheme_end));
  if (scheme != "http" && scheme != "https")
    throw UsageError(fmt::format("github-results-url: '{}' is not an http(s) URL", url));
  const auto authority_start = scheme_end + 3;
  const auto authority_end = url.find_first_of("/?#", authority_start);
  const auto authority = url.substr(
      authority_start, authority_end == std::string::npos ? std::string::npos : authority_end - authority_start);
  if (authority.empty() || authority.find('@') != std::string::npos ||
      authority.find_first_of(" \t") != std::string::npos)
    throw UsageError(fmt::format("github-results-url: '{}' has no usable host", url));
  return scheme + "://" + authority;
}

void validate(const GithubSettings &s) {
  if (trim(s.results_url).empty() || s.token.empty())
    throw MissingCredentialsError(
        fmt::format("github-results-url, github-token: {} missing (the runner gives ACTIONS_RESULTS_URL and "
                    "ACTIONS_RUNTIME_TOKEN only to node actions; the cachekit actions pass them from an "
                    "actions/github-script step; by hand: --github-results-url/--github-token or "
                    "CACHEKIT_GITHUB_RESULTS_URL/CACHEKIT_GITHUB_TOKEN)",
                    trim(s.results_url).empty() && s.token.empty() ? "both"
                    : s.token.empty()                              ? "the token is"
                                                                   : "the URL is"));
  results_origin(s.results_url);
  if (s.retry_count < 0 || s.retry_count > 20)
    throw UsageError(fmt::format("retry-count: {} is out of range (expected 0..20)", s.retry_count));
  if (s.connect_timeout_seconds < 1 || s.stall_timeout_seconds < 1)
    throw UsageError("github-connect-timeout, stall-timeout: must be at least 1s");
  if (s.block_size < (1ull << 20) || s.block_size > (4000ull << 20))
    throw UsageError(fmt::format("part-size: {} is out of range for the github backend (expected 1M..4000M)",
                                 human_bytes(s.block_size)));
  if (s.concurrency < 1 || s.concurrency > 64)
    throw UsageError(fmt::format("concurrency: {} is out of range (expected 1..64)", s.concurrency));
}

} // namespace cachekit::storage
