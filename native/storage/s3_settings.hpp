#pragma once
// S3 connection settings as the CLI resolved them, and the two decisions made from them
// before any request: where requests go (endpoint, scheme, addressing style) and which
// credentials sign them (inputs first; ambient AWS_* variables only when the inputs are empty).
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace cachekit::storage {

struct S3Settings {
  std::string endpoint; // "s3.example.org", "host:port" or a URL; empty = AWS
  std::string region = "us-east-1";
  std::string bucket;
  std::optional<bool> insecure;   // http instead of https; unset = https unless the URL says http
  std::optional<bool> path_style; // unset = path-style except on AWS endpoints
  std::string access_key;         // secret-free: may be logged
  std::string secret_key;         // never written anywhere
  std::string session_token;      // never written anywhere
  std::string prefix;             // object-name prefix, e.g. "cachekit"
  int retry_count = 3;
  uint64_t part_size = 16ull << 20;
  int concurrency = 4;
  bool legacy_tespkg_layout = false; // also read `<key>/cache.tzst` at the bucket root
  int connect_timeout_seconds = 10;
  int stall_timeout_seconds = 30;
};

inline constexpr uint64_t kMinPartSize = 5ull << 20; // S3's minimum for all parts but the last
inline constexpr uint64_t kMaxPartSize = 512ull << 20;

// Where requests go.
struct S3Endpoint {
  std::string scheme;    // http | https
  std::string host;      // without port
  std::string port;      // "" = scheme default
  std::string base_path; // "" or "/something" (a gateway mounted below the root)
  bool path_style = true;

  // URL of an object (empty name = the bucket itself), query already canonical or empty.
  std::string url(const std::string &bucket, const std::string &object_name, const std::string &query) const;
  std::string origin() const; // scheme://host[:port]
};

// Validates the settings and works out scheme/host/port/addressing. Throws UsageError naming
// the input at fault.
S3Endpoint resolve_endpoint(const S3Settings &settings);

struct S3Credentials {
  std::string access_key;
  std::string secret_key;
  std::string session_token;
  std::string source; // for the log: which inputs or variables they came from
};

// Inputs when given; AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN only when
// both key inputs are empty. `getenv` is injected for tests. Throws MissingCredentialsError
// when no credentials are given at all, UsageError when only half of the inputs is set.
S3Credentials resolve_credentials(const S3Settings &settings,
                                  const std::function<std::optional<std::string>(const char *)> &getenv);

// Checks ranges (part size, concurrency, retry count, bucket name); throws UsageError.
void validate(const S3Settings &settings);

} // namespace cachekit::storage
