#pragma once
// libcurl, wrapped. One request per call on a pooled easy handle (pooled so connections are
// reused across requests and threads); AWS SigV4 signing by libcurl itself; a connect
// timeout and a stall timeout (no byte moved for N seconds cancels the attempt); request
// bodies sent from memory, response bodies collected or streamed. `send` adds the retry
// policy (retry_policy.hpp).
#include "http/retry_policy.hpp"
#include "util/error.hpp"

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cachekit::http {

struct SigV4Credentials {
  std::string access_key;
  std::string secret_key;
  std::string session_token; // sent as x-amz-security-token when set
  std::string region = "us-east-1";
  std::string service = "s3";
};

struct ClientOptions {
  std::chrono::seconds connect_timeout{10};
  std::chrono::seconds stall_timeout{30};
  std::optional<SigV4Credentials> sigv4;
  // Extracts a service error code (S3's <Code>) from an error body, for the retry decision.
  std::function<std::string(std::string_view body)> error_code;
  // libcurl CONNECT_TO entries ("host:port:connect-host:connect-port"): reach a name at
  // another address without changing the URL, Host header or signature (tests, pinning).
  std::vector<std::string> connect_to;
};

// What x-amz-content-sha256 carries when signing: the body's sha256 or UNSIGNED-PAYLOAD.
// libcurl 7.88 never sets this header itself, and S3 servers refuse SigV4 requests without it.
enum class Payload { Signed, Unsigned };

struct Response;

struct Request {
  std::string method = "GET";
  std::string url; // path and query already canonical (uri.hpp): libcurl signs them as written
  std::vector<std::pair<std::string, std::string>> headers;
  std::span<const std::byte> body; // not owned; must outlive the call; re-sent on retries
  Payload payload = Payload::Signed;
  // When set, the body of a 2xx response is streamed here instead of collected in
  // Response::body (error bodies are always collected). Throwing aborts the attempt.
  std::function<void(std::span<const std::byte>)> on_body;
  // When set, called once per attempt with the status and headers of a 2xx response, before
  // its first on_body call (not called when the body is empty). Throwing aborts the attempt,
  // e.g. when a ranged GET's Content-Range is not the range asked for.
  std::function<void(const Response &)> on_headers;
  const std::atomic<bool> *cancel = nullptr; // becomes true: abort, also during backoff waits
};

struct Response {
  long status = 0;
  std::vector<std::pair<std::string, std::string>> headers; // names lower-case
  std::string body;
  int attempts = 1;
  std::optional<std::string> header(std::string_view lower_case_name) const;
};

// An attempt that ended without a complete HTTP response.
class TransportFailure : public ServiceError {
public:
  TransportFailure(TransportError kind, const std::string &message) : ServiceError(message), kind_(kind) {}
  TransportError kind() const { return kind_; }

private:
  TransportError kind_;
};

class Client {
public:
  explicit Client(ClientOptions options);
  ~Client();
  Client(const Client &) = delete;
  Client &operator=(const Client &) = delete;

  // One attempt. Any HTTP status is returned; throws TransportFailure when no complete
  // response arrived, and rethrows what an on_body callback threw.
  Response perform(const Request &request);

  // Attempts until success, a final answer or the policy gives up. Returns the last response
  // (the caller interprets non-2xx statuses) or throws the last TransportFailure.
  // `make_request` runs before every attempt, so a resumed download can move its Range on.
  Response send(const std::function<Request()> &make_request, const RetryPolicy &policy, std::string_view what);
  Response send(const Request &request, const RetryPolicy &policy, std::string_view what);

  const ClientOptions &options() const { return options_; }

private:
  struct Pool;
  ClientOptions options_;
  std::unique_ptr<Pool> pool_;
};

} // namespace cachekit::http
