#pragma once
// A directory backend (runner-local NVMe caches, tests). Layout under the root:
//   blobs/<aa>/<sha256>.tzst                         archive bytes, content-addressed
//   entries/<repo>/<ref>/<version>/<hash(key)>.json  manifests (repo and ref %-encoded);
//                                                    the manifest's mtime is its last use
//   tmp/                                             in-flight saves
// An entry appears only when its manifest is hard-linked into place, after the blob was
// fsynced and renamed: link(2) fails if the name exists, so the first writer wins.
#include "storage/backend.hpp"
#include "util/fs.hpp"

namespace cachekit::storage {

class LocalBackend : public Backend {
public:
  explicit LocalBackend(fs::path root);

  std::string name() const override { return "local"; }
  std::string describe() const override { return "local:" + root_.string(); }
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

  // Exposed for the writer.
  fs::path manifest_path(const std::string &repository, const std::string &ref, const std::string &version,
                         const std::string &key) const;
  fs::path blob_path(const std::string &sha256) const;
  const fs::path &root() const { return root_; }

private:
  std::vector<EntryManifest> list_version_dir(const fs::path &dir) const;
  fs::path root_;
};

// Percent-encodes everything but [A-Za-z0-9._-], so a ref like refs/heads/x is one path
// component.
std::string encode_component(const std::string &s);
std::string decode_component(const std::string &s);

} // namespace cachekit::storage
