#include "http/retry_policy.hpp"

#include "util/strings.hpp"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <fmt/format.h>
#include <random>

namespace cachekit::http {

bool is_success(const AttemptOutcome &o) {
  return o.transport == TransportError::None && o.status >= 200 && o.status < 300;
}

bool is_retryable(const AttemptOutcome &o) {
  switch (o.transport) {
  case TransportError::Connect:
  case TransportError::Resolve:
  case TransportError::Timeout:
  case TransportError::Stalled:
  case TransportError::Dropped: return true;
  case TransportError::Tls:
  case TransportError::Cancelled:
  case TransportError::Local: return false;
  case TransportError::None: break;
  }
  if (o.status >= 500 || o.status == 429 || o.status == 408) return true;
  // Some servers throttle with a 4xx-looking SlowDown; auth and not-found answers stay final.
  if (o.error_code == "SlowDown" && o.status != 400 && o.status != 401 && o.status != 403 && o.status != 404)
    return true;
  return false;
}

std::string describe(const AttemptOutcome &o) {
  switch (o.transport) {
  case TransportError::Connect: return "could not connect";
  case TransportError::Resolve: return "could not resolve the host";
  case TransportError::Timeout: return "timed out";
  case TransportError::Stalled: return "the transfer stalled";
  case TransportError::Dropped: return "the connection dropped";
  case TransportError::Tls: return "TLS certificate verification failed";
  case TransportError::Cancelled: return "cancelled";
  case TransportError::Local: return "local error";
  case TransportError::None: break;
  }
  return o.error_code.empty() ? fmt::format("HTTP {}", o.status) : fmt::format("HTTP {} {}", o.status, o.error_code);
}

RetryPolicy::RetryPolicy(int retries, std::chrono::milliseconds base_delay, std::chrono::milliseconds max_delay,
                         std::chrono::milliseconds max_retry_after)
    : retries_(std::max(0, retries)), base_(base_delay), max_(max_delay), max_retry_after_(max_retry_after) {}

std::chrono::milliseconds RetryPolicy::backoff(int failed_attempts, double random01) const {
  const int exponent = std::clamp(failed_attempts - 1, 0, 30);
  const double full =
      std::min(static_cast<double>(max_.count()), static_cast<double>(base_.count()) * std::ldexp(1.0, exponent));
  const double r = std::clamp(random01, 0.0, 1.0);
  return std::chrono::milliseconds(static_cast<int64_t>(full / 2 + r * full / 2));
}

std::optional<std::chrono::milliseconds> RetryPolicy::next_delay(int failed_attempts, const AttemptOutcome &outcome,
                                                                 double random01) const {
  if (failed_attempts > retries_ || !is_retryable(outcome)) return std::nullopt;
  if (!retry_unreachable_ &&
      (outcome.transport == TransportError::Connect || outcome.transport == TransportError::Resolve ||
       outcome.transport == TransportError::Timeout))
    return std::nullopt;
  if (!retry_throttled_ && outcome.transport == TransportError::None && outcome.status == 429) return std::nullopt;
  auto delay = backoff(failed_attempts, random01);
  if (outcome.retry_after) delay = std::max(delay, std::min(*outcome.retry_after, max_retry_after_));
  return delay;
}

std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value,
                                                           std::chrono::system_clock::time_point now) {
  const auto v = trim(value);
  if (v.empty()) return std::nullopt;
  if (std::all_of(v.begin(), v.end(), [](unsigned char c) { return std::isdigit(c) != 0; })) {
    if (v.size() > 9) return std::chrono::milliseconds(std::chrono::hours(24));
    return std::chrono::milliseconds(std::stoll(v) * 1000);
  }
  // IMF-fixdate, e.g. "Wed, 21 Oct 2015 07:28:00 GMT".
  std::tm tm{};
  const char *end = strptime(v.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (!end || *end != '\0') return std::nullopt;
  const auto at = std::chrono::system_clock::from_time_t(timegm(&tm));
  const auto delta = std::chrono::duration_cast<std::chrono::milliseconds>(at - now);
  return std::max(delta, std::chrono::milliseconds(0));
}

double jitter_random() {
  thread_local std::mt19937_64 gen{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(gen);
}

} // namespace cachekit::http
