#pragma once
// The GitHub-cache fallback policy (use-fallback): the one place that decides which backend
// serves a restore or a save, and why.
//  - restore: from the primary backend (S3). When it FAILS — it cannot be reached, TLS fails,
//    5xx after the retries, a stalled transfer (ServiceError) — restore from the GitHub cache
//    instead; after a plain miss only with fallback-on-miss. A ConfigurationError (wrong
//    secret, access denied, missing bucket, wrong region) is never hidden by the fallback:
//    it propagates (exit 1).
//  - save: to the primary; when that fails (ServiceError), to the GitHub cache.
//  - no S3 credentials at all (pull requests from forks get no secrets): the GitHub cache,
//    with a warning.
//  - the GitHub cache, fallback or primary, never fails the job (as with actions/cache): its
//    errors are warnings; a restore becomes a miss, a save is skipped.
//  - fallback wanted but the GitHub cache not available to this step (no runtime token or
//    results URL): one warning line, then as without fallback.
// Only the s3 backend has a fallback; use-fallback is ignored for local (and moot for github).
#include "engine/restore.hpp"
#include "engine/save.hpp"
#include "storage/backend.hpp"

#include <functional>
#include <memory>
#include <string>

namespace cachekit::engine {

using BackendFactory = std::function<std::unique_ptr<storage::Backend>()>;

struct BackendPlan {
  std::string primary_type; // "s3", "local" or "github"
  BackendFactory primary;
  BackendFactory github;          // empty when the GitHub cache is not available to this step
  std::string github_unavailable; // why not, for the warning
  bool use_fallback = false;
  bool fallback_on_miss = false;
};

// Reasons recorded when the GitHub fallback served (outputs, state, log, job summary).
inline constexpr char kReasonPrimaryFailed[] = "S3 failed";
inline constexpr char kReasonPrimaryMiss[] = "not in S3";
inline constexpr char kReasonNoCredentials[] = "no S3 credentials";

RestoreOutcome restore_with_fallback(const BackendPlan &plan, const RestoreRequest &request);
SaveOutcome save_with_fallback(const BackendPlan &plan, const SaveRequest &request);

// The `cache-backend` output: "s3", or "github (fallback: S3 failed)".
std::string backend_label(const std::string &backend, const std::string &fallback_reason);

// Whether a step with these settings may talk to the GitHub cache (and so needs the runtime
// token): the github backend, or s3 with use-fallback.
bool needs_github(const std::string &backend_type, bool use_fallback);

} // namespace cachekit::engine
