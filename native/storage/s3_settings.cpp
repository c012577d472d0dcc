#include "storage/s3_settings.hpp"

#include "http/uri.hpp"
#include "util/error.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <cctype>
#include <fmt/format.h>

namespace cachekit::storage {
namespace {

bool is_ip_literal(const std::string &host) {
  in_addr v4{};
  in6_addr v6{};
  std::string h = host;
  if (h.size() > 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  return inet_pton(AF_INET, h.c_str(), &v4) == 1 || inet_pton(AF_INET6, h.c_str(), &v6) == 1;
}

bool is_aws_host(const std::string &host) {
  const auto h = to_lower(host);
  return h == "amazonaws.com" || h.ends_with(".amazonaws.com");
}

} // namespace

std::string S3Endpoint::origin() const {
  return port.empty() ? fmt::format("{}://{}", scheme, host) : fmt::format("{}://{}:{}", scheme, host, port);
}

std::string S3Endpoint::url(const std::string &bucket, const std::string &object_name, const std::string &query) const {
  std::string url;
  if (path_style) {
    url = origin() + base_path + "/" + http::uri_encode(bucket, false);
    if (!object_name.empty())
      url += "/" + http::uri_encode(object_name, true);
    else if (!query.empty())
      url += "/"; // GET /bucket/?list-type=2: a path every server accepts
  } else {
    const std::string host_port = port.empty() ? bucket + "." + host : bucket + "." + host + ":" + port;
    url = scheme + "://" + host_port + base_path + "/" + http::uri_encode(object_name, true);
  }
  if (!query.empty()) url += "?" + query;
  return url;
}

S3Endpoint resolve_endpoint(const S3Settings &s) {
  S3Endpoint e;
  std::string rest = trim(s.endpoint);
  std::string scheme;
  if (auto p = rest.find("://"); p != std::string::npos) {
    scheme = to_lower(rest.substr(0, p));
    rest = rest.substr(p + 3);
    if (scheme != "http" && scheme != "https")
      throw UsageError(fmt::format("endpoint: '{}' has scheme '{}' (expected http:// or https://, or a bare host)",
                                   s.endpoint, scheme));
    // An http:// URL is as explicit as insecure=true (actions pass insecure=false by default);
    // asking for plain http with an https:// URL is a contradiction.
    if (s.insecure.value_or(false) && scheme == "https")
      throw UsageError(fmt::format("endpoint: '{}' says https but insecure is true; drop one of them", s.endpoint));
  }
  if (rest.empty()) {
    if (!scheme.empty()) throw UsageError(fmt::format("endpoint: '{}' has no host", s.endpoint));
    rest = s.region == "us-east-1" ? "s3.amazonaws.com" : fmt::format("s3.{}.amazonaws.com", s.region);
  }
  if (scheme.empty()) scheme = s.insecure.value_or(false) ? "http" : "https";
  e.scheme = scheme;

  if (auto slash = rest.find('/'); slash != std::string::npos) {
    e.base_path = rest.substr(slash);
    rest.resize(slash);
    while (!e.base_path.empty() && e.base_path.back() == '/')
      e.base_path.pop_back();
  }
  if (rest.find_first_of("?#@") != std::string::npos)
    throw UsageError(fmt::format("endpoint: '{}' must be a host or a URL without query or credentials", s.endpoint));
  // host, host:port, [v6], [v6]:port
  if (!rest.empty() && rest.front() == '[') {
    const auto close = rest.find(']');
    if (close == std::string::npos)
      throw UsageError(fmt::format("endpoint: '{}' has an unterminated [IPv6]", s.endpoint));
    e.host = rest.substr(0, close + 1);
    if (close + 1 < rest.size()) {
      if (rest[close + 1] != ':') throw UsageError(fmt::format("endpoint: '{}' is not host[:port]", s.endpoint));
      e.port = rest.substr(close + 2);
    }
  } else if (auto colon = rest.find(':'); colon != std::string::npos) {
    e.host = rest.substr(0, colon);
    e.port = rest.substr(colon + 1);
  } else {
    e.host = rest;
  }
  if (e.host.empty()) throw UsageError(fmt::format("endpoint: '{}' has no host", s.endpoint));
  if (!e.port.empty()) {
    const bool digits = std::all_of(e.port.begin(), e.port.end(), [](unsigned char c) { return std::isdigit(c); });
    if (!digits || e.port.size() > 5 || std::stoi(e.port) == 0 || std::stoi(e.port) > 65535)
      throw UsageError(fmt::format("endpoint: '{}' has an invalid port '{}'", s.endpoint, e.port));
  }
  // Virtual-host addressing needs wildcard DNS (and TLS certificates) for <bucket>.<host>,
  // which IPs, localhost and most self-hosted gateways do not have; AWS prefers it.
  const auto lower_host = to_lower(e.host);
  const bool ip = is_ip_literal(e.host);
  const bool local = ip || lower_host == "localhost" || lower_host.ends_with(".localhost");
  e.path_style = s.path_style.value_or(local || !is_aws_host(e.host));
  if (!e.path_style && ip)
    throw UsageError(fmt::format("path-style: virtual-host addressing (<bucket>.<host>) cannot work with the IP "
                                 "endpoint '{}'; set path-style to true or use a host name",
                                 s.endpoint));
  return e;
}

S3Credentials resolve_credentials(const S3Settings &s,
                                  const std::function<std::optional<std::string>(const char *)> &getenv) {
  S3Credentials c;
  const auto ak = trim(s.access_key);
  const auto sk = s.secret_key; // secrets are used verbatim
  if (!ak.empty() || !sk.empty()) {
    if (ak.empty() || sk.empty())
      throw UsageError(fmt::format("{}: missing while {} is set (pass both access-key and secret-key, or neither to "
                                   "use AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)",
                                   ak.empty() ? "access-key" : "secret-key", ak.empty() ? "secret-key" : "access-key"));
    c.access_key = ak;
    c.secret_key = sk;
    c.session_token = s.session_token;
    c.source =
        c.session_token.empty() ? "the access-key/secret-key inputs" : "the access-key/secret-key/session-token inputs";
    return c;
  }
  const auto env_ak = getenv("AWS_ACCESS_KEY_ID").value_or("");
  const auto env_sk = getenv("AWS_SECRET_ACCESS_KEY").value_or("");
  if (env_ak.empty() || env_sk.empty())
    throw MissingCredentialsError(
        "access-key, secret-key: missing (pass --access-key and --secret-key or set "
        "CACHEKIT_ACCESS_KEY/CACHEKIT_SECRET_KEY; AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY are used "
        "only when both inputs are empty)");
  c.access_key = trim(env_ak);
  c.secret_key = env_sk;
  // An input token without input keys would belong to other credentials: use the ambient one.
  c.session_token = getenv("AWS_SESSION_TOKEN").value_or("");
  c.source = c.session_token.empty()
                 ? "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (the access-key/secret-key inputs were empty)"
                 : "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN (the access-key/secret-key inputs "
                   "were empty)";
  return c;
}

void validate(const S3Settings &s) {
  const auto &b = s.bucket;
  if (b.empty()) throw UsageError("bucket: missing (expected an S3 bucket name; pass --bucket or set CACHEKIT_BUCKET)");
  const bool chars_ok = std::all_of(b.begin(), b.end(), [](unsigned char c) {
    return std::islower(c) || std::isdigit(c) || c == '-' || c == '.' || c == '_' || std::isupper(c);
  });
  if (!chars_ok || b.size() > 255 || b.front() == '.' || b.front() == '-')
    throw UsageError(fmt::format("bucket: '{}' is not a valid bucket name", b));
  if (s.region.empty() || s.region.find_first_of(" /:") != std::string::npos)
    throw UsageError(fmt::format("region: '{}' is not a region name (e.g. us-east-1)", s.region));
  if (s.part_size < kMinPartSize || s.part_size > kMaxPartSize)
    throw UsageError(fmt::format("part-size: {} is out of range (expected 5M..512M)", human_bytes(s.part_size)));
  if (s.concurrency < 1 || s.concurrency > 64)
    throw UsageError(fmt::format("concurrency: {} is out of range (expected 1..64)", s.concurrency));
  if (s.retry_count < 0 || s.retry_count > 20)
    throw UsageError(fmt::format("retry-count: {} is out of range (expected 0..20)", s.retry_count));
  if (s.connect_timeout_seconds < 1 || s.stall_timeout_seconds < 1)
    throw UsageError("connect-timeout, stall-timeout: must be at least 1s");
  for (const auto &part : split(s.prefix, '/'))
    if (part == "." || part == "..")
      throw UsageError(fmt::format("s3-prefix: '{}' must not contain '.' or '..' components", s.prefix));
}

} // namespace cachekit::storage
