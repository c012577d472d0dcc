#include "http/client.hpp"

#include "http/curl_library.hpp"

#include "util/log.hpp"
#include "util/sha256.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <csignal>
#include <cstring>
#include <fmt/format.h>
#include <mutex>
#include <thread>

namespace cachekit::http {
namespace {

constexpr char kUnsignedPayload[] = "UNSIGNED-PAYLOAD";
constexpr size_t kMaxCollectedBody = 256u << 20; // a listing page is ~300 KiB; anything near this is wrong

struct EasyDeleter {
  void operator()(CURL *h) const { curl().easy_cleanup(h); }
};
using EasyHandle = std::unique_ptr<CURL, EasyDeleter>;

struct SlistDeleter {
  void operator()(curl_slist *l) const { curl().slist_free_all(l); }
};
using Slist = std::unique_ptr<curl_slist, SlistDeleter>;

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl().global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) throw OperationError("libcurl failed to initialise");
    // With CURLOPT_NOSIGNAL (needed with threads) libcurl no longer ignores SIGPIPE itself; a
    // server resetting a TLS connection mid-write must fail that request, not kill the process.
    std::signal(SIGPIPE, SIG_IGN);
  });
}

// Per-attempt state the C callbacks work on.
struct Transfer {
  Transfer(const Request &r, CURL *h, std::chrono::steady_clock::duration stall)
      : request(r), handle(h), stall_timeout(stall) {}
  const Request &request;
  CURL *handle;
  std::chrono::steady_clock::duration stall_timeout;
  size_t read_offset = 0;
  Response response;
  std::exception_ptr callback_error;
  // Stall detection: the time bytes last moved in either direction.
  curl_off_t last_bytes = -1;
  std::chrono::steady_clock::time_point last_progress = std::chrono::steady_clock::now();
  bool stalled = false;
  bool headers_reported = false;
};

size_t on_read(char *buffer, size_t size, size_t count, void *user) {
  auto *t = static_cast<Transfer *>(user);
  const auto body = t->request.body;
  const size_t n = std::min(size * count, body.size() - t->read_offset);
  std::memcpy(buffer, body.data() + t->read_offset, n);
  t->read_offset += n;
  return n;
}

int on_seek(void *user, curl_off_t offset, int origin) {
  auto *t = static_cast<Transfer *>(user);
  if (origin != SEEK_SET || offset < 0 || static_cast<size_t>(offset) > t->request.body.size())
    return CURL_SEEKFUNC_CANTSEEK;
  t->read_offset = static_cast<size_t>(offset);
  return CURL_SEEKFUNC_OK;
}

size_t on_header(char *buffer, size_t size, size_t count, void *user) {
  auto *t = static_cast<Transfer *>(user);
  const std::string_view line(buffer, size * count);
  if (line.starts_with("HTTP/")) {
    t->response.headers.clear(); // a new response (after 100 Continue): start over
  } else if (auto colon = line.find(':'); colon != std::string_view::npos) {
    t->response.headers.emplace_back(to_lower(trim(line.substr(0, colon))), trim(line.substr(colon + 1)));
  }
  return size * count;
}

size_t on_write(char *data, size_t size, size_t count, void *user) {
  auto *t = static_cast<Transfer *>(user);
  const size_t n = size * count;
  long status = 0;
  curl().easy_getinfo(t->handle, CURLINFO_RESPONSE_CODE, &status);
  if (status >= 200 && status < 300 && t->request.on_body) {
    try {
      if (t->request.on_headers && !t->headers_reported) {
        t->headers_reported = true;
        t->response.status = status;
        t->request.on_headers(t->response);
      }
      t->request.on_body(std::span(reinterpret_cast<const std::byte *>(data), n));
    } catch (...) {
      t->callback_error = std::current_exception();
      return 0; // aborts the transfer with CURLE_WRITE_ERROR
    }
    return n;
  }
  if (t->response.body.size() + n > kMaxCollectedBody) return 0;
  t->response.body.append(data, n);
  return n;
}

// Called about once a second even when nothing moves, so it is the stall clock too.
int on_progress(void *user, curl_off_t, curl_off_t dlnow, curl_off_t, curl_off_t ulnow) {
  auto *t = static_cast<Transfer *>(user);
  if (t->request.cancel && t->request.cancel->load()) return 1;
  const auto now = std::chrono::steady_clock::now();
  if (dlnow + ulnow != t->last_bytes) {
    t->last_bytes = dlnow + ulnow;
    t->last_progress = now;
  } else if (now - t->last_progress >= t->stall_timeout) {
    t->stalled = true;
    return 1;
  }
  return 0;
}

TransportError classify(CURLcode rc) {
  switch (rc) {
  case CURLE_COULDNT_CONNECT:
  case CURLE_SSL_CONNECT_ERROR: return TransportError::Connect;
  case CURLE_COULDNT_RESOLVE_HOST:
  case CURLE_COULDNT_RESOLVE_PROXY: return TransportError::Resolve;
  case CURLE_OPERATION_TIMEDOUT: return TransportError::Timeout;
  case CURLE_SEND_ERROR:
  case CURLE_RECV_ERROR:
  case CURLE_GOT_NOTHING:
  case CURLE_PARTIAL_FILE:
  case CURLE_HTTP2:
  case CURLE_HTTP2_STREAM:
  case CURLE_SEND_FAIL_REWIND: return TransportError::Dropped;
  case CURLE_PEER_FAILED_VERIFICATION:
  case CURLE_SSL_CACERT_BADFILE:
  case CURLE_SSL_CERTPROBLEM:
  case CURLE_SSL_ISSUER_ERROR: return TransportError::Tls;
  case CURLE_ABORTED_BY_CALLBACK: return TransportError::Cancelled;
  default: return TransportError::Local;
  }
}

template <typename T> void setopt(CURL *h, CURLoption option, T value) {
  if (const auto rc = curl().easy_setopt(h, option, value); rc != CURLE_OK)
    throw OperationError(
        fmt::format("libcurl option {} rejected: {}", static_cast<int>(option), curl().easy_strerror(rc)));
}

void sleep_unless_cancelled(std::chrono::milliseconds delay, const std::atomic<bool> *cancel) {
  const auto until = std::chrono::steady_clock::now() + delay;
  while (std::chrono::steady_clock::now() < until) {
    if (cancel && cancel->load()) return;
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
        std::chrono::milliseconds(50), until - std::chrono::steady_clock::now()));
  }
}

} // namespace

std::optional<std::string> Response::header(std::string_view lower_case_name) const {
  for (const auto &[name, value] : headers)
    if (name == lower_case_name) return value;
  return std::nullopt;
}

// Idle easy handles; each keeps its own live connections, so reusing them reuses connections.
struct Client::Pool {
  std::mutex mutex;
  std::vector<EasyHandle> idle;

  EasyHandle acquire() {
    {
      std::lock_guard lock(mutex);
      if (!idle.empty()) {
        auto h = std::move(idle.back());
        idle.pop_back();
        curl().easy_reset(h.get()); // keeps the connection cache
        return h;
      }
    }
    EasyHandle h(curl().easy_init());
    if (!h) throw OperationError("libcurl: cannot create a handle");
    return h;
  }
  void release(EasyHandle h) {
    std::lock_guard lock(mutex);
    if (idle.size() < 32) idle.push_back(std::move(h));
  }
};

Client::Client(ClientOptions options) : options_(std::move(options)), pool_(std::make_unique<Pool>()) {
  global_init();
}

Client::~Client() = default;

Response Client::perform(const Request &request) {
  auto handle = pool_->acquire();
  CURL *h = handle.get();
  Transfer t{request, h, options_.stall_timeout};
  char error_buffer[CURL_ERROR_SIZE] = {0};

  setopt(h, CURLOPT_URL, request.url.c_str());
  setopt(h, CURLOPT_PATH_AS_IS, 1L); // object names are data: no "/../" squashing
  setopt(h, CURLOPT_NOSIGNAL, 1L);   // several threads transfer at once
  setopt(h, CURLOPT_ERRORBUFFER, error_buffer);
  setopt(h, CURLOPT_USERAGENT, "cachekit/" CACHEKIT_VERSION);
  setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout.count() * 1000));
  setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
  setopt(h, CURLOPT_HEADERFUNCTION, on_header);
  setopt(h, CURLOPT_HEADERDATA, &t);
  setopt(h, CURLOPT_WRITEFUNCTION, on_write);
  setopt(h, CURLOPT_WRITEDATA, &t);
  // Stall detection and cancellation. (CURLOPT_LOW_SPEED_* averages over a window of several
  // seconds, so it noticed a stall only after ~stall + 5 s; counting idle time here is exact.)
  setopt(h, CURLOPT_NOPROGRESS, 0L);
  setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
  setopt(h, CURLOPT_XFERINFODATA, &t);

  const bool has_body = request.method == "PUT" || request.method == "POST";
  if (request.method == "GET") {
    setopt(h, CURLOPT_HTTPGET, 1L);
  } else if (request.method == "HEAD") {
    setopt(h, CURLOPT_NOBODY, 1L);
  } else if (has_body) {
    // Upload mode for both, so the body always comes from the read callback (and can be
    // rewound); the method name is then set explicitly.
    setopt(h, CURLOPT_UPLOAD, 1L);
    setopt(h, CURLOPT_READFUNCTION, on_read);
    setopt(h, CURLOPT_READDATA, &t);
    setopt(h, CURLOPT_SEEKFUNCTION, on_seek);
    setopt(h, CURLOPT_SEEKDATA, &t);
    setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    if (request.method != "PUT") setopt(h, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  } else {
    setopt(h, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }

  std::vector<std::string> header_lines;
  for (const auto &[name, value] : request.headers)
    header_lines.push_back(fmt::format("{}: {}", name, value));
  std::string sigv4_provider;
  if (options_.sigv4) {
    const auto &c = *options_.sigv4;
    sigv4_provider = fmt::format("aws:amz:{}:{}", c.region, c.service);
    setopt(h, CURLOPT_AWS_SIGV4, sigv4_provider.c_str());
    setopt(h, CURLOPT_USERNAME, c.access_key.c_str());
    setopt(h, CURLOPT_PASSWORD, c.secret_key.c_str());
    const std::string payload =
        request.payload == Payload::Unsigned
            ? std::string(kUnsignedPayload)
            : Sha256::hex(std::string_view(reinterpret_cast<const char *>(request.body.data()), request.body.size()));
    header_lines.push_back("x-amz-content-sha256: " + payload);
    if (!c.session_token.empty()) header_lines.push_back("x-amz-security-token: " + c.session_token);
  }
  Slist headers;
  for (const auto &line : header_lines) {
    curl_slist *next = curl().slist_append(headers.get(), line.c_str());
    if (!next) throw OperationError("libcurl: out of memory");
    if (!headers) headers.reset(next);
  }
  if (headers) setopt(h, CURLOPT_HTTPHEADER, headers.get());
  Slist connect_to;
  for (const auto &entry : options_.connect_to) {
    curl_slist *next = curl().slist_append(connect_to.get(), entry.c_str());
    if (!next) throw OperationError("libcurl: out of memory");
    if (!connect_to) connect_to.reset(next);
  }
  if (connect_to) setopt(h, CURLOPT_CONNECT_TO, connect_to.get());

  const CURLcode rc = curl().easy_perform(h);
  if (t.callback_error) std::rethrow_exception(t.callback_error); // handle is dropped: its state is unknown
  if (t.stalled) {
    throw TransportFailure(TransportError::Stalled,
                           fmt::format("no data moved for {}s",
                                       std::chrono::duration_cast<std::chrono::seconds>(t.stall_timeout).count()));
  }
  if (rc != CURLE_OK) {
    const std::string message = error_buffer[0] ? error_buffer : curl().easy_strerror(rc);
    throw TransportFailure(classify(rc), message);
  }
  curl().easy_getinfo(h, CURLINFO_RESPONSE_CODE, &t.response.status);
  pool_->release(std::move(handle));
  return std::move(t.response);
}

Response Client::send(const std::function<Request()> &make_request, const RetryPolicy &policy, std::string_view what) {
  for (int failed = 0;;) {
    const Request request = make_request();
    AttemptOutcome outcome;
    std::optional<Response> response;
    std::exception_ptr failure;
    std::string failure_message;
    try {
      response = perform(request);
      outcome.status = response->status;
      if (!is_success(outcome)) {
        if (options_.error_code) outcome.error_code = options_.error_code(response->body);
        if (auto ra = response->header("retry-after"))
          outcome.retry_after = parse_retry_after(*ra, std::chrono::system_clock::now());
      }
    } catch (const TransportFailure &e) {
      outcome.transport = e.kind();
      failure = std::current_exception();
      failure_message = e.what();
    }
    if (response && (is_success(outcome) || !is_retryable(outcome))) {
      response->attempts = failed + 1;
      return std::move(*response);
    }
    ++failed;
    const auto delay =
        request.cancel && request.cancel->load() ? std::nullopt : policy.next_delay(failed, outcome, jitter_random());
    if (!delay) {
      if (response) {
        response->attempts = failed;
        return std::move(*response);
      }
      if (outcome.transport == TransportError::Cancelled || outcome.transport == TransportError::Local ||
          outcome.transport == TransportError::Tls)
        std::rethrow_exception(failure);
      throw TransportFailure(outcome.transport,
                             fmt::format("{}: {} ({}); gave up after {} attempt{}", what, describe(outcome),
                                         failure_message, failed, failed == 1 ? "" : "s"));
    }
    log::info("{}: {}{}; retry {}/{} in {:.1f}s", what, describe(outcome),
              failure_message.empty() ? "" : " (" + failure_message + ")", failed, policy.retries(),
              static_cast<double>(delay->count()) / 1000.0);
    sleep_unless_cancelled(*delay, request.cancel);
  }
}

Response Client::send(const Request &request, const RetryPolicy &policy, std::string_view what) {
  return send([&] { return request; }, policy, what);
}

} // namespace cachekit::http
