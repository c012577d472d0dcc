#pragma once
// Object names of the S3 backend (docs/s3-layout.md is the operator's view):
//
//   <prefix>/<owner>/<repo>/<ref>/<version>/<key>/archive-<random>.tzst  archive bytes
//   <prefix>/<owner>/<repo>/<ref>/<version>/<key>/manifest.json          written last: the entry exists
//   <prefix>/_last-used/<owner>/<repo>/<ref>/<version>/<key>/last-used   touched on every restore hit
//
// The ref (refs/heads/main, refs/pull/7/merge) keeps its slashes, so "write only below your
// own ref" is one bucket-policy line. Each writer uploads its archive under a random name and
// the manifest names it: racing writers never overwrite each other's bytes, and the one whose
// conditional manifest write lands first wins. Last-use markers live in their own tree so a
// job allowed to write only its own ref can still record the use of main's entries.
#include <optional>
#include <string>

namespace cachekit::storage {

class S3Layout {
public:
  explicit S3Layout(std::string prefix); // leading/trailing '/' ignored; "" = bucket root

  const std::string &base() const { return base_; } // "" or "prefix/"

  // "<base><owner>/<repo>/" (throws UsageError unless repository is owner/name).
  std::string repository_prefix(const std::string &repository) const;
  // "<base><owner>/<repo>/<ref>/"
  std::string ref_prefix(const std::string &repository, const std::string &ref) const;
  // "<base><owner>/<repo>/<ref>/<version>/": every entry of one scope and version.
  std::string scope_prefix(const std::string &repository, const std::string &ref, const std::string &version) const;
  // scope_prefix + "<key>/". Throws UsageError when the names would exceed S3's 1024 bytes.
  std::string entry_dir(const std::string &repository, const std::string &ref, const std::string &version,
                        const std::string &key) const;

  static std::string manifest_name(const std::string &entry_dir) { return entry_dir + kManifest; }
  static std::string new_archive_name(const std::string &entry_dir);
  // The directory of an archive or manifest object ("…/<key>/").
  static std::string dir_of(const std::string &object_name);
  // "<base>_last-used/<rest of the entry dir>last-used"
  std::string last_used_name(const std::string &entry_dir) const;
  // The entry dir a last-use marker belongs to; nullopt for other names.
  std::optional<std::string> entry_dir_of_marker(const std::string &marker_name) const;
  std::string last_used_root() const { return base_ + kLastUsedTree; }

  // The key of a manifest listed under `scope_prefix`; nullopt for other objects.
  static std::optional<std::string> key_of_manifest(const std::string &scope_prefix, const std::string &object_name);
  static bool is_manifest(const std::string &object_name);
  static bool is_archive(const std::string &object_name);

  // tespkg/actions-cache: `<key>/cache.tzst` at the bucket root, whatever the prefix.
  static std::string legacy_archive_name(const std::string &key) { return key + "/" + kLegacyArchive; }
  static std::optional<std::string> key_of_legacy_archive(const std::string &object_name);
  static bool is_legacy_archive(const std::string &object_name);

  static constexpr const char *kManifest = "manifest.json";
  static constexpr const char *kLegacyArchive = "cache.tzst";
  static constexpr const char *kLastUsedTree = "_last-used/";
  static constexpr const char *kLastUsedFile = "last-used";

private:
  std::string base_;
};

} // namespace cachekit::storage
