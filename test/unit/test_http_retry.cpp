#include "http/retry_policy.hpp"

#include <catch2/catch.hpp>

using namespace cachekit::http;
using namespace std::chrono_literals;

namespace {
AttemptOutcome status(long code, std::string error_code = "") {
  AttemptOutcome o;
  o.status = code;
  o.error_code = std::move(error_code);
  return o;
}
AttemptOutcome transport(TransportError e) {
  AttemptOutcome o;
  o.transport = e;
  return o;
}
} // namespace

TEST_CASE("server errors, throttling and request timeouts are retried") {
  for (long code : {500L, 502L, 503L, 504L, 429L, 408L}) {
    INFO(code);
    CHECK(is_retryable(status(code)));
  }
  CHECK(is_retryable(status(503, "SlowDown")));
  CHECK(is_retryable(status(409, "SlowDown"))); // odd servers throttle with other statuses
}

TEST_CASE("answers are never retried: 400, 403, 404 and other client errors") {
  for (long code : {400L, 401L, 403L, 404L, 405L, 409L, 412L, 416L}) {
    INFO(code);
    CHECK_FALSE(is_retryable(status(code)));
  }
  CHECK_FALSE(is_retryable(status(403, "SignatureDoesNotMatch")));
  CHECK_FALSE(is_retryable(status(403, "SlowDown")));
  CHECK_FALSE(is_retryable(status(400, "SlowDown")));
  CHECK_FALSE(is_retryable(status(200)));
  CHECK(is_success(status(206)));
}

TEST_CASE("connection errors, timeouts, stalls and drops are retried; TLS and local errors are not") {
  CHECK(is_retryable(transport(TransportError::Connect)));
  CHECK(is_retryable(transport(TransportError::Resolve)));
  CHECK(is_retryable(transport(TransportError::Timeout)));
  CHECK(is_retryable(transport(TransportError::Stalled)));
  CHECK(is_retryable(transport(TransportError::Dropped)));
  CHECK_FALSE(is_retryable(transport(TransportError::Tls)));
  CHECK_FALSE(is_retryable(transport(TransportError::Cancelled)));
  CHECK_FALSE(is_retryable(transport(TransportError::Local)));
}

TEST_CASE("retry-count bounds the number of retries") {
  const RetryPolicy three(3);
  const auto e = status(503);
  CHECK(three.next_delay(1, e, 0.5));
  CHECK(three.next_delay(2, e, 0.5));
  CHECK(three.next_delay(3, e, 0.5));
  CHECK_FALSE(three.next_delay(4, e, 0.5));

  const RetryPolicy none(0);
  CHECK_FALSE(none.next_delay(1, e, 0.5));
  CHECK_FALSE(none.next_delay(1, transport(TransportError::Dropped), 0.5));
  CHECK_FALSE(RetryPolicy(5).next_delay(1, status(403), 0.5));
}

TEST_CASE("backoff grows exponentially with equal jitter and a cap") {
  const RetryPolicy p(10, 500ms, 20s);
  CHECK(p.backoff(1, 0.0) == 250ms);
  CHECK(p.backoff(1, 1.0) == 500ms);
  CHECK(p.backoff(2, 0.0) == 500ms);
  CHECK(p.backoff(3, 0.5) == 1500ms); // full 2000: 1000 fixed + 0.5 * 1000
  CHECK(p.backoff(4, 1.0) == 4000ms);
  CHECK(p.backoff(10, 1.0) == 20s); // capped
  CHECK(p.backoff(10, 0.0) == 10s);
  CHECK(p.backoff(100, 1.0) == 20s);
  for (int attempt = 1; attempt < 8; ++attempt)
    CHECK(p.backoff(attempt, 0.0) > 0ms); // never an immediate retry
}

TEST_CASE("Retry-After is honoured, up to a cap") {
  const RetryPolicy p(3, 500ms, 20s, 60s);
  auto e = status(503, "SlowDown");
  e.retry_after = 3s;
  CHECK(*p.next_delay(1, e, 0.0) == 3s);
  e.retry_after = 100ms; // shorter than the backoff: the backoff wins
  CHECK(*p.next_delay(1, e, 1.0) == 500ms);
  e.retry_after = std::chrono::hours(2);
  CHECK(*p.next_delay(1, e, 0.0) == 60s);
  auto denied = status(403);
  denied.retry_after = 1s;
  CHECK_FALSE(p.next_delay(1, denied, 0.0));
}

TEST_CASE("Retry-After parses delta-seconds and HTTP dates") {
  const auto now = std::chrono::system_clock::from_time_t(1445412480); // Wed, 21 Oct 2015 07:28:00 GMT
  CHECK(parse_retry_after("3", now) == 3000ms);
  CHECK(parse_retry_after(" 0 ", now) == 0ms);
  CHECK(parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now) == 30000ms);
  CHECK(parse_retry_after("Wed, 21 Oct 2015 07:27:00 GMT", now) == 0ms); // in the past
  CHECK_FALSE(parse_retry_after("soon", now));
  CHECK_FALSE(parse_retry_after("", now));
  CHECK_FALSE(parse_retry_after("-5", now));
}

TEST_CASE("jitter stays in [0, 1)") {
  for (int i = 0; i < 1000; ++i) {
    const double r = jitter_random();
    REQUIRE(r >= 0.0);
    REQUIRE(r < 1.0);
  }
}

TEST_CASE("narrower policies: no retry when the host is unreachable, none on 429") {
  RetryPolicy fast(3);
  fast.without_unreachable_retries();
  CHECK_FALSE(fast.next_delay(1, transport(TransportError::Connect), 0.5));
  CHECK_FALSE(fast.next_delay(1, transport(TransportError::Resolve), 0.5));
  CHECK_FALSE(fast.next_delay(1, transport(TransportError::Timeout), 0.5));
  CHECK(fast.next_delay(1, transport(TransportError::Dropped), 0.5));
  CHECK(fast.next_delay(1, transport(TransportError::Stalled), 0.5));
  CHECK(fast.next_delay(1, status(503), 0.5));
  CHECK(fast.next_delay(1, status(429), 0.5));

  RetryPolicy no_throttle(3);
  no_throttle.without_throttle_retries();
  CHECK_FALSE(no_throttle.next_delay(1, status(429), 0.5));
  CHECK(no_throttle.next_delay(1, status(500), 0.5));
  CHECK(no_throttle.next_delay(1, transport(TransportError::Connect), 0.5));
}
