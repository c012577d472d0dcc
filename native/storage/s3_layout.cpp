#include "storage/s3_layout.hpp"

#include "util/error.hpp"
#include "util/fs.hpp"
#include "util/strings.hpp"

#include <fmt/format.h>

namespace cachekit::storage {
namespace {

constexpr size_t kMaxObjectName = 1024; // S3's limit, in bytes

// A run of '/'-separated, non-empty components other than "." and "..": anything else would
// make two different scopes share a prefix, or confuse path normalising proxies.
void check_components(const std::string &value, const char *input, const std::string &expected) {
  if (value.empty()) throw UsageError(fmt::format("{}: missing (expected {})", input, expected));
  for (const auto &part : split(value, '/'))
    if (part.empty() || part == "." || part == "..")
      throw UsageError(fmt::format("{}: '{}' is not usable in object names (expected {}, without empty, '.' or '..' "
                                   "components)",
                                   input, value, expected));
}

} // namespace

S3Layout::S3Layout(std::string prefix) {
  while (!prefix.empty() && prefix.front() == '/')
    prefix.erase(prefix.begin());
  while (!prefix.empty() && prefix.back() == '/')
    prefix.pop_back();
  base_ = prefix.empty() ? "" : prefix + "/";
}

std::string S3Layout::repository_prefix(const std::string &repository) const {
  check_components(repository, "repository", "owner/name");
  if (split(repository, '/').size() != 2)
    throw UsageError(fmt::format("repository: '{}' is not owner/name", repository));
  return base_ + repository + "/";
}

std::string S3Layout::ref_prefix(const std::string &repository, const std::string &ref) const {
  check_components(ref, "ref", "a git ref such as refs/heads/main");
  return repository_prefix(repository) + ref + "/";
}

std::string S3Layout::scope_prefix(const std::string &repository, const std::string &ref,
                                   const std::string &version) const {
  check_components(version, "version", "the cache version");
  if (version.find('/') != std::string::npos) throw UsageError(fmt::format("version: '{}' contains '/'", version));
  return ref_prefix(repository, ref) + version + "/";
}

std::string S3Layout::entry_dir(const std::string &repository, const std::string &ref, const std::string &version,
                                const std::string &key) const {
  if (key.empty()) throw UsageError("key: missing");
  auto dir = scope_prefix(repository, ref, version) + key + "/";
  // The longest name below the dir is the last-use marker.
  const size_t longest = std::string_view(kLastUsedTree).size() + dir.size() + std::string_view(kLastUsedFile).size();
  if (longest > kMaxObjectName || dir.size() + 32 > kMaxObjectName)
    throw UsageError(fmt::format("key: '{}…' is too long for S3 object names with this repository, ref and prefix "
                                 "({} bytes, S3 allows {})",
                                 key.substr(0, 40), longest, kMaxObjectName));
  return dir;
}

std::string S3Layout::new_archive_name(const std::string &entry_dir) {
  return entry_dir + "archive-" + random_hex(8) + ".tzst";
}

std::string S3Layout::dir_of(const std::string &object_name) {
  const auto slash = object_name.rfind('/');
  return slash == std::string::npos ? std::string() : object_name.substr(0, slash + 1);
}

std::string S3Layout::last_used_name(const std::string &entry_dir) const {
  const std::string rest = entry_dir.starts_with(base_) ? entry_dir.substr(base_.size()) : entry_dir;
  return base_ + kLastUsedTree + rest + kLastUsedFile;
}

std::optional<std::string> S3Layout::entry_dir_of_marker(const std::string &marker_name) const {
  const std::string root = last_used_root();
  const std::string suffix = std::string("/") + kLastUsedFile;
  if (!marker_name.starts_with(root) || !marker_name.ends_with(suffix)) return std::nullopt;
  return base_ +
         marker_name.substr(root.size(), marker_name.size() - root.size() - std::string_view(kLastUsedFile).size());
}

std::optional<std::string> S3Layout::key_of_manifest(const std::string &scope_prefix, const std::string &object_name) {
  const std::string suffix = std::string("/") + kManifest;
  if (!object_name.starts_with(scope_prefix) || !object_name.ends_with(suffix) ||
      object_name.size() <= scope_prefix.size() + suffix.size())
    return std::nullopt;
  return object_name.substr(scope_prefix.size(), object_name.size() - scope_prefix.size() - suffix.size());
}

bool S3Layout::is_manifest(const std::string &object_name) {
  return object_name.ends_with(std::string("/") + kManifest);
}

bool S3Layout::is_archive(const std::string &object_name) {
  const auto slash = object_name.rfind('/');
  const std::string_view file =
      slash == std::string::npos ? std::string_view(object_name) : std::string_view(object_name).substr(slash + 1);
  return file.starts_with("archive-") && file.ends_with(".tzst");
}

std::optional<std::string> S3Layout::key_of_legacy_archive(const std::string &object_name) {
  const std::string suffix = std::string("/") + kLegacyArchive;
  if (!object_name.ends_with(suffix) || object_name.size() == suffix.size()) return std::nullopt;
  return object_name.substr(0, object_name.size() - suffix.size());
}

bool S3Layout::is_legacy_archive(const std::string &object_name) {
  return key_of_legacy_archive(object_name).has_value();
}

} // namespace cachekit::storage
