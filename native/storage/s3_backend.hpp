#pragma once
// The S3 backend (AWS S3, Ceph RGW, MinIO, …). Object names: s3_layout.hpp; operators'
// view: docs/s3-layout.md. Lookups list the scope prefix across all pages and let
// key_match.hpp choose; an entry exists once its manifest does; transfers are multipart /
// ranged, streaming and retried (s3_upload.hpp, s3_download.hpp).
#include "storage/backend.hpp"
#include "storage/s3_client.hpp"
#include "storage/s3_layout.hpp"
#include "storage/s3_settings.hpp"

#include <memory>

namespace cachekit::storage {

class S3Backend : public Backend {
public:
  S3Backend(const S3Settings &settings, S3Credentials credentials);

  std::string name() const override { return "s3"; }
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
  // The manifest at `manifest_name`, checked against what its name says; nullopt when it is
  // missing or unreadable (warned).
  std::optional<EntryManifest> read_manifest(const std::string &manifest_name, const std::string &expected_key,
                                             const std::string &expected_version);
  std::optional<LookupResult> lookup_legacy(const LookupRequest &request);

  S3Settings settings_;
  S3Layout layout_;
  std::unique_ptr<S3Client> client_;
};

} // namespace cachekit::storage
