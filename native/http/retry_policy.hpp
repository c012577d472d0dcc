#pragma once
// When an HTTP request is retried, and how long to wait first: the one place that decides.
// Retried: connection errors, timeouts, stalled transfers, dropped connections, 5xx, 429,
// 408 and S3 `SlowDown`. Never retried: other 4xx (400/403/404 are answers, not accidents:
// retrying a wrong secret only delays the error). Waits grow exponentially with jitter, so
// parallel parts that failed together do not retry in lockstep; a Retry-After header is
// honoured (up to a cap).
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace cachekit::http {

// Why an attempt produced no complete HTTP response.
enum class TransportError {
  None,      // a response arrived; look at the status
  Connect,   // could not connect (refused, reset during connect, TLS handshake broke off)
  Resolve,   // DNS lookup failed
  Timeout,   // connect timeout
  Stalled,   // no bytes moved for the stall timeout
  Dropped,   // the connection broke mid-request or mid-body
  Tls,       // certificate verification failed: configuration, not luck
  Cancelled, // we cancelled it
  Local,     // our own failure (bad URL, out of memory, a callback threw)
};

struct AttemptOutcome {
  TransportError transport = TransportError::None;
  long status = 0;        // HTTP status when transport == None
  std::string error_code; // S3 error <Code>, when the body had one
  std::optional<std::chrono::milliseconds> retry_after;
};

bool is_success(const AttemptOutcome &outcome);
bool is_retryable(const AttemptOutcome &outcome);
std::string describe(const AttemptOutcome &outcome);

class RetryPolicy {
public:
  explicit RetryPolicy(int retries = 3, std::chrono::milliseconds base_delay = std::chrono::milliseconds(500),
                       std::chrono::milliseconds max_delay = std::chrono::seconds(20),
                       std::chrono::milliseconds max_retry_after = std::chrono::seconds(60));

  int retries() const { return retries_; }

  // Narrower policies for callers that must fail fast. Without unreachable retries, an
  // attempt that could not connect at all (refused, DNS, connect timeout) is final: a host
  // that cannot be reached costs one connect timeout, not several. Without throttle retries,
  // 429 is final: the caller reports "rate limited" instead of waiting out a Retry-After.
  RetryPolicy &without_unreachable_retries() {
    retry_unreachable_ = false;
    return *this;
  }
  RetryPolicy &without_throttle_retries() {
    retry_throttled_ = false;
    return *this;
  }

  // The wait before the next attempt, or nullopt to give up. `failed_attempts` counts the
  // attempts made so far (1 after the first failure); `random01` in [0, 1) is the jitter
  // source, injected so tests are deterministic.
  std::optional<std::chrono::milliseconds> next_delay(int failed_attempts, const AttemptOutcome &outcome,
                                                      double random01) const;

  // The exponential part alone: base * 2^(n-1), capped, with "equal jitter" (half fixed,
  // half random) so a retry never fires immediately.
  std::chrono::milliseconds backoff(int failed_attempts, double random01) const;

private:
  int retries_;
  std::chrono::milliseconds base_;
  std::chrono::milliseconds max_;
  std::chrono::milliseconds max_retry_after_;
  bool retry_unreachable_ = true;
  bool retry_throttled_ = true;
};

// Retry-After as delta-seconds ("3") or an HTTP date; nullopt when unparsable.
std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value,
                                                           std::chrono::system_clock::time_point now);

// A uniformly distributed number in [0, 1) from a thread-local generator.
double jitter_random();

} // namespace cachekit::http
