#pragma once
// The GitHub Actions cache service v2: three twirp JSON calls, POSTed to
// <origin of ACTIONS_RESULTS_URL>/twirp/github.actions.results.api.v1.CacheService/<Method>
// with `Authorization: Bearer <runtime token>`. Bodies follow protojson as @actions/cache
// sends them: snake_case field names, int64 as strings, default values omitted; replies are
// read in either spelling (snake_case or lowerCamel), a missing `ok` means false.
//
// What the answers mean (mirrors @actions/cache 6.x, see docs/cli.md):
//   409 on CreateCacheEntry  another job is creating this entry   -> SaveDeclined (a note)
//   429                      rate limited (no retry, no waiting)  -> SaveDeclined (a warning) / ServiceError
//   ok:false on Create       "cache write denied: …", quota       -> SaveDeclined (a warning)
//   401/403                  the token was refused                -> ConfigurationError
//   5xx, connection errors   retried (retry-count) but never when the host is unreachable,
//                            so an unreachable service costs one connect timeout -> ServiceError
#include "http/client.hpp"
#include "storage/gha_settings.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cachekit::storage::gha {

inline constexpr char kService[] = "github.actions.results.api.v1.CacheService";

// Request bodies, byte for byte what @actions/cache sends.
std::string create_entry_body(const std::string &key, const std::string &version);
std::string finalize_body(const std::string &key, const std::string &version, uint64_t size_bytes);
std::string download_url_body(const std::string &key, const std::vector<std::string> &restore_keys,
                              const std::string &version);

struct CreateEntryReply {
  bool ok = false;
  std::string signed_upload_url;
  std::string message;
};
struct FinalizeReply {
  bool ok = false;
  std::string entry_id; // int64, kept as text
  std::string message;
};
struct DownloadUrlReply {
  bool ok = false;
  std::string signed_download_url;
  std::string matched_key;
};
// A twirp error body: {"code": "already_exists", "msg": "…"}; empty fields when absent.
struct TwirpError {
  std::string code;
  std::string msg;
};

// Throw ServiceError when the body is not a JSON object (`method` names the call).
CreateEntryReply parse_create_entry(std::string_view body, std::string_view method = "CreateCacheEntry");
FinalizeReply parse_finalize(std::string_view body, std::string_view method = "FinalizeCacheEntryUpload");
DownloadUrlReply parse_download_url(std::string_view body, std::string_view method = "GetCacheEntryDownloadURL");
TwirpError parse_twirp_error(std::string_view body); // never throws

class TwirpClient {
public:
  TwirpClient(const GithubSettings &settings, http::Client &http);

  const std::string &origin() const { return origin_; }

  // Reserves the entry and returns its signed upload URL. Throws SaveDeclined, ConfigurationError
  // or ServiceError (see above).
  std::string create_entry(const std::string &key, const std::string &version);
  // Publishes the uploaded entry. false: another writer finalized it first.
  bool finalize(const std::string &key, const std::string &version, uint64_t size_bytes);
  // The best match of key / restore_keys as the SERVICE matches them (primary key as a prefix
  // too: gha_lookup.hpp corrects that); nullopt on a miss.
  std::optional<DownloadUrlReply> download_url(const std::string &key, const std::vector<std::string> &restore_keys,
                                               const std::string &version);

private:
  http::Response call(const std::string &method, const std::string &body);
  [[noreturn]] void fail(const std::string &method, const http::Response &response) const;

  std::string origin_;
  std::string authorization_;
  http::RetryPolicy policy_;
  http::Client &http_;
};

// Registers the signature of a signed blob URL (its `sig` query value, raw and decoded) as
// a secret, so it is masked in all output, as @actions/cache does.
void mask_signed_url(const std::string &url);

} // namespace cachekit::storage::gha
