#pragma once
// The `github` backend: the GitHub Actions cache service v2 (twirp, gha_twirp.hpp) with the
// archives in Azure block blobs behind signed URLs (gha_blob.hpp). Same archive format and
// the same version hash as actions/cache, so entries are shared with it both ways. The
// service keeps scopes (from the runtime token), matching, last use and eviction itself:
// the repository/ref arguments of the Backend interface are not used, record_use does
// nothing, and ls / rm / prune are not offered (UsageError).
#include "http/client.hpp"
#include "storage/backend.hpp"
#include "storage/gha_blob.hpp"
#include "storage/gha_settings.hpp"
#include "storage/gha_twirp.hpp"

#include <memory>

namespace cachekit::storage {

class GhaBackend : public Backend {
public:
  explicit GhaBackend(const GithubSettings &settings);

  std::string name() const override { return "github"; }
  std::string describe() const override;
  std::optional<LookupResult> lookup(const LookupRequest &request) override;
  bool exists(const std::string &repository, const std::string &ref, const std::string &version,
              const std::string &key) override;
  std::unique_ptr<ByteSource> open(const EntryManifest &entry) override;
  void record_use(const EntryManifest &entry) override;
  std::unique_ptr<EntryWriter> create(const std::string &repository, const std::string &ref, const std::string &version,
                                      const std::string &key) override;
  std::vector<EntryManifest> list(const ListFilter &filter) override;
  void remove(const EntryManifest &entry) override;
  uint64_t collect_garbage(int64_t min_age_seconds) override;

private:
  gha::BlobClient blob(const std::string &signed_url);

  GithubSettings settings_;
  std::unique_ptr<http::Client> http_;
  std::unique_ptr<gha::TwirpClient> twirp_;
};

// The message of the UsageError for ls / rm / prune.
extern const char *const kGithubNoOperatorCommands;

} // namespace cachekit::storage
