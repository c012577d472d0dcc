#include "engine/fallback.hpp"

#include "engine/keys.hpp"
#include "engine/version.hpp"
#include "util/error.hpp"
#include "util/log.hpp"

#include <atomic>

namespace cachekit::engine {
namespace {

bool fallback_wanted(const BackendPlan &plan) {
  return plan.use_fallback && plan.primary_type == "s3";
}

// Said once per process: a save of several states would otherwise repeat it.
bool github_available(const BackendPlan &plan) {
  if (plan.github) return true;
  static std::atomic<bool> warned{false};
  if (!warned.exchange(true))
    log::warning("use-fallback: the GitHub cache is not available to this step ({}); continuing without a fallback",
                 plan.github_unavailable.empty() ? "no runtime token" : plan.github_unavailable);
  return false;
}

// `reason` is empty when the GitHub cache is the primary backend.
std::unique_ptr<storage::Backend> make_github(const BackendFactory &factory, const std::string &reason,
                                              std::string &failure) {
  try {
    return factory();
  } catch (const UsageError &e) {
    if (reason.empty()) throw; // `backend: github` without a token or URL is bad input
    failure = e.what();
    return nullptr;
  }
}

// Runs `operation` against the GitHub cache. A GitHub problem never fails the job: it becomes
// the outcome `on_failure` builds from the reason (a miss, or a skipped save).
template <typename Outcome, typename Operation, typename OnFailure>
Outcome with_github(const BackendFactory &factory, const std::string &reason, Operation operation,
                    OnFailure on_failure) {
  std::string failure;
  try {
    if (auto backend = make_github(factory, reason, failure)) {
      Outcome outcome = operation(*backend);
      outcome.fallback_reason = reason;
      return outcome;
    }
  } catch (const ServiceError &e) {
    failure = e.what();
  } catch (const ConfigurationError &e) {
    failure = e.what();
  }
  Outcome outcome = on_failure(failure);
  outcome.backend = "github";
  outcome.fallback_reason = reason;
  return outcome;
}

RestoreOutcome github_restore(const BackendFactory &factory, const RestoreRequest &request, const std::string &reason) {
  return with_github<RestoreOutcome>(
      factory, reason, [&](storage::Backend &backend) { return restore(backend, request); },
      [&](const std::string &failure) {
        log::warning("The GitHub cache could not be used: {}. Treating this as a cache miss.", failure);
        RestoreOutcome outcome;
        outcome.version = cache_version(request.path_patterns);
        outcome.note = "the GitHub cache could not be used: " + failure;
        return outcome;
      });
}

SaveOutcome github_save(const BackendFactory &factory, const SaveRequest &request, const std::string &reason) {
  return with_github<SaveOutcome>(
      factory, reason, [&](storage::Backend &backend) { return save(backend, request); },
      [&](const std::string &failure) {
        log::warning("Not saving: the GitHub cache could not be used: {}", failure);
        SaveOutcome outcome;
        outcome.version = cache_version(request.path_patterns);
        outcome.skipped_reason = "the GitHub cache could not be used: " + failure;
        outcome.warned = true;
        return outcome;
      });
}

void warn_no_credentials(const MissingCredentialsError &e, const char *what) {
  log::warning("No S3 credentials: {}. Using the GitHub cache instead for this {} (use-fallback; pull requests "
               "from forks get no secrets).",
               e.what(), what);
}

} // namespace

std::string backend_label(const std::string &backend, const std::string &fallback_reason) {
  if (backend.empty() || fallback_reason.empty()) return backend;
  return backend + " (fallback: " + fallback_reason + ")";
}

bool needs_github(const std::string &backend_type, bool use_fallback) {
  return backend_type == "github" || (backend_type == "s3" && use_fallback);
}

RestoreOutcome restore_with_fallback(const BackendPlan &plan, const RestoreRequest &request) {
  if (plan.primary_type == "github") return github_restore(plan.primary, request, "");
  const bool fallback = fallback_wanted(plan) && github_available(plan);

  std::unique_ptr<storage::Backend> primary;
  try {
    primary = plan.primary();
  } catch (const MissingCredentialsError &e) {
    if (!fallback) throw;
    warn_no_credentials(e, "restore");
    return github_restore(plan.github, request, kReasonNoCredentials);
  }

  RestoreOutcome outcome;
  try {
    outcome = restore(*primary, request);
  } catch (const ServiceError &e) {
    if (!fallback) throw;
    log::warning("S3 failed: {}. Restoring from the GitHub cache instead (use-fallback).", e.what());
    return github_restore(plan.github, request, kReasonPrimaryFailed);
  }
  if (!outcome.found && fallback && plan.fallback_on_miss && may_read(request.policy)) {
    log::info("Not found in S3; trying the GitHub cache (fallback-on-miss)");
    auto from_github = github_restore(plan.github, request, kReasonPrimaryMiss);
    if (from_github.found) return from_github;
    outcome.note += "; not in the GitHub cache either";
  }
  return outcome;
}

SaveOutcome save_with_fallback(const BackendPlan &plan, const SaveRequest &request) {
  if (plan.primary_type == "github") return github_save(plan.primary, request, "");
  const bool fallback = fallback_wanted(plan) && github_available(plan);

  std::unique_ptr<storage::Backend> primary;
  try {
    primary = plan.primary();
  } catch (const MissingCredentialsError &e) {
    if (!fallback) throw;
    warn_no_credentials(e, "save");
    return github_save(plan.github, request, kReasonNoCredentials);
  }
  try {
    return save(*primary, request);
  } catch (const ServiceError &e) {
    if (!fallback) throw;
    log::warning("S3 failed: {}. Saving to the GitHub cache instead (use-fallback).", e.what());
    return github_save(plan.github, request, kReasonPrimaryFailed);
  }
}

} // namespace cachekit::engine
