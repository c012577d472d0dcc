#include "storage/gha_backend.hpp"

#include "storage/gha_download.hpp"
#include "storage/gha_lookup.hpp"
#include "storage/gha_upload.hpp"
#include "util/error.hpp"
#include "util/log.hpp"

#include <fmt/format.h>

namespace cachekit::storage {

const char *const kGithubNoOperatorCommands =
    "ls/rm/prune are not available for the github backend: the GitHub cache service offers no listing or "
    "deletion to a workflow (use the repository's Actions > Caches page or the REST API)";

namespace {

http::ClientOptions client_options(const GithubSettings &s) {
  http::ClientOptions o;
  o.connect_timeout = std::chrono::seconds(s.connect_timeout_seconds);
  o.stall_timeout = std::chrono::seconds(s.stall_timeout_seconds);
  return o;
}

} // namespace

GhaBackend::GhaBackend(const GithubSettings &settings) : settings_(settings) {
  validate(settings_);
  log::add_secret(settings_.token);
  http_ = std::make_unique<http::Client>(client_options(settings_));
  twirp_ = std::make_unique<gha::TwirpClient>(settings_, *http_);
  settings_.token.clear(); // the twirp client keeps the only copy
  log::debug("GitHub cache: service at {}, connect timeout {}s", twirp_->origin(), settings_.connect_timeout_seconds);
}

std::string GhaBackend::describe() const {
  return "github-cache:" + twirp_->origin();
}

gha::BlobClient GhaBackend::blob(const std::string &signed_url) {
  http::RetryPolicy policy(settings_.retry_count);
  http::RetryPolicy first(settings_.retry_count);
  first.without_unreachable_retries(); // a blob host this runner cannot reach: fail in seconds
  return gha::BlobClient(*http_, signed_url, policy, first);
}

std::optional<LookupResult> GhaBackend::lookup(const LookupRequest &request) {
  const auto found = gha::lookup_via_service(
      request.primary_key, request.restore_keys,
      [&](const std::string &key, const std::vector<std::string> &restore_keys) -> std::optional<gha::ServiceMatch> {
        auto reply = twirp_->download_url(key, restore_keys, request.version);
        if (!reply) return std::nullopt;
        return gha::ServiceMatch{reply->matched_key, reply->signed_download_url};
      });
  if (!found) return std::nullopt;
  LookupResult result;
  result.exact = found->exact;
  result.entry.key = found->match.matched_key;
  result.entry.version = request.version;
  result.entry.repository = request.repository;
  result.entry.location = found->match.download_url;
  result.entry.compression = "zstd-without-long";
  // Size, checksum and creation time are unknown: the download learns the size, and the
  // zstd frame checksums catch damaged bytes.
  return result;
}

bool GhaBackend::exists(const std::string &, const std::string &, const std::string &version, const std::string &key) {
  const auto reply = twirp_->download_url(key, {}, version);
  return reply && reply->matched_key == key;
}

std::unique_ptr<ByteSource> GhaBackend::open(const EntryManifest &entry) {
  return std::make_unique<GhaRangeSource>(blob(entry.location), settings_.block_size, settings_.concurrency);
}

void GhaBackend::record_use(const EntryManifest &) {
  // The service records every download itself (its LRU eviction uses it).
}

std::unique_ptr<EntryWriter> GhaBackend::create(const std::string &, const std::string &, const std::string &version,
                                                const std::string &key) {
  const auto url = twirp_->create_entry(key, version);
  return std::make_unique<GhaEntryWriter>(*twirp_, blob(url), key, version, settings_.block_size,
                                          settings_.concurrency);
}

std::vector<EntryManifest> GhaBackend::list(const ListFilter &) {
  throw UsageError(kGithubNoOperatorCommands);
}

void GhaBackend::remove(const EntryManifest &) {
  throw UsageError(kGithubNoOperatorCommands);
}

uint64_t GhaBackend::collect_garbage(int64_t) {
  throw UsageError(kGithubNoOperatorCommands);
}

} // namespace cachekit::storage
