#include "storage/s3_backend.hpp"

#include "storage/key_match.hpp"
#include "storage/s3_download.hpp"
#include "storage/s3_upload.hpp"
#include "util/error.hpp"
#include "util/log.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

namespace cachekit::storage {
namespace {

std::span<const std::byte> bytes_of(std::string_view s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}

bool is_hex64(const std::string &s) {
  return s.size() == 64 &&
         std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// Runs fn(i) for i in [0, n) on up to `threads` threads; rethrows the first failure.
template <typename Fn> void parallel_for(size_t n, int threads, Fn fn) {
  std::atomic<size_t> next{0};
  std::mutex mutex;
  std::exception_ptr failure;
  auto work = [&] {
    for (size_t i; (i = next++) < n;) {
      try {
        fn(i);
      } catch (...) {
        std::lock_guard lock(mutex);
        if (!failure) failure = std::current_exception();
        next = n;
      }
    }
  };
  {
    std::vector<std::jthread> pool;
    for (int t = 1; t < std::min<int>(threads, static_cast<int>(n)); ++t)
      pool.emplace_back(work);
    work();
  }
  if (failure) std::rethrow_exception(failure);
}

} // namespace

S3Backend::S3Backend(const S3Settings &settings, S3Credentials credentials)
    : settings_(settings), layout_(settings.prefix) {
  settings_.secret_key.clear();
  settings_.session_token.clear();
  const auto source = credentials.source;
  client_ = std::make_unique<S3Client>(settings, std::move(credentials));
  log::info("S3: {} at {} ({} addressing); credentials from {}", describe(), client_->endpoint().origin(),
            client_->endpoint().path_style ? "path-style" : "virtual-host", source);
}

std::string S3Backend::describe() const {
  return fmt::format("s3://{}/{}", settings_.bucket, layout_.base());
}

std::optional<EntryManifest> S3Backend::read_manifest(const std::string &manifest_name, const std::string &expected_key,
                                                      const std::string &expected_version) {
  const auto body = client_->get_object(manifest_name);
  if (!body) {
    log::debug("{} disappeared while it was being read", client_->describe(manifest_name));
    return std::nullopt;
  }
  try {
    const auto j = nlohmann::json::parse(*body);
    auto m = manifest_from_json(j);
    const auto archive = j.value("archive", std::string());
    std::string problem;
    if (!expected_key.empty() && m.key != expected_key)
      problem = fmt::format("it names key '{}'", m.key);
    else if (!expected_version.empty() && m.version != expected_version)
      problem = "it names another version";
    else if (archive.empty() || archive.find('/') != std::string::npos || !S3Layout::is_archive(archive))
      problem = "it names no archive in its own directory";
    else if (!is_hex64(m.sha256))
      problem = "it has no sha256";
    if (!problem.empty()) {
      log::warning("ignoring the manifest {}: {}", client_->describe(manifest_name), problem);
      return std::nullopt;
    }
    m.location = S3Layout::dir_of(manifest_name) + archive;
    m.last_used_ms = m.created_ms;
    return m;
  } catch (const std::exception &e) {
    log::warning("ignoring the unreadable manifest {}: {}", client_->describe(manifest_name), e.what());
    return std::nullopt;
  }
}

std::optional<LookupResult> S3Backend::lookup(const LookupRequest &request) {
  std::map<std::string, std::vector<s3xml::ListedObject>> listings; // by list prefix
  std::set<std::string> rejected;                                   // manifests that failed to read
  auto list_scope = [&](const std::string &ref, const std::string &key_prefix) {
    const auto scope = layout_.scope_prefix(request.repository, ref, request.version);
    const auto prefix = scope + key_prefix;
    const std::vector<s3xml::ListedObject> *objects = nullptr;
    for (const auto &[listed, objs] : listings) // a shorter prefix's listing holds this one
      if (prefix.starts_with(listed)) {
        objects = &objs;
        break;
      }
    if (!objects) objects = &(listings[prefix] = client_->list_objects(prefix));
    std::vector<EntryManifest> candidates;
    for (const auto &o : *objects) {
      if (!o.name.starts_with(prefix) || rejected.contains(o.name)) continue;
      auto key = S3Layout::key_of_manifest(scope, o.name);
      if (!key) continue;
      EntryManifest m;
      m.key = std::move(*key);
      m.version = request.version;
      m.repository = request.repository;
      m.ref = ref;
      m.created_ms = o.last_modified_ms; // the server's clock orders "newest"
      m.location = o.name;
      candidates.push_back(std::move(m));
    }
    return candidates;
  };

  for (int attempt = 0; attempt < 8; ++attempt) {
    const auto found = select_entry(request, list_scope);
    if (!found) break;
    auto manifest = read_manifest(found->entry.location, found->entry.key, request.version);
    if (!manifest) {
      rejected.insert(found->entry.location);
      continue;
    }
    if (manifest->ref != found->entry.ref || manifest->repository != request.repository)
      log::warning("the manifest {} says {} {} but lies under {} {}", client_->describe(found->entry.location),
                   manifest->repository, manifest->ref, request.repository, found->entry.ref);
    manifest->ref = found->entry.ref;
    manifest->repository = request.repository;
    return LookupResult{*manifest, found->exact};
  }
  if (settings_.legacy_tespkg_layout) return lookup_legacy(request);
  return std::nullopt;
}

std::optional<LookupResult> S3Backend::lookup_legacy(const LookupRequest &request) {
  LookupRequest legacy = request;
  legacy.refs = {"(legacy)"}; // one scope: the bucket root
  std::map<std::string, std::vector<EntryManifest>> listed;
  auto list_root = [&](const std::string &, const std::string &key_prefix) {
    auto it = listed.find(key_prefix);
    if (it != listed.end()) return it->second;
    std::vector<EntryManifest> candidates;
    for (const auto &o : client_->list_objects(key_prefix)) {
      auto key = S3Layout::key_of_legacy_archive(o.name);
      if (!key) continue;
      EntryManifest m;
      m.key = std::move(*key);
      m.version = request.version; // the layout has no version: every entry counts
      m.size = o.size;
      m.created_ms = o.last_modified_ms;
      m.last_used_ms = o.last_modified_ms;
      m.location = o.name;
      candidates.push_back(std::move(m));
    }
    return listed.emplace(key_prefix, std::move(candidates)).first->second;
  };
  auto found = select_entry(legacy, list_root);
  if (found)
    log::info("found '{}' in the legacy tespkg layout ({}); it has no checksum to verify", found->entry.key,
              client_->describe(found->entry.location));
  return found;
}

bool S3Backend::exists(const std::string &repository, const std::string &ref, const std::string &version,
                       const std::string &key) {
  // A listing, not a GET: without an unconditional s3:ListBucket grant, S3 answers a GET of a
  // missing object with 403 instead of 404, and bucket policies grant listing per prefix.
  const auto manifest = S3Layout::manifest_name(layout_.entry_dir(repository, ref, version, key));
  for (const auto &o : client_->list_objects(manifest))
    if (o.name == manifest) return true;
  return false;
}

std::unique_ptr<ByteSource> S3Backend::open(const EntryManifest &entry) {
  return std::make_unique<S3RangeSource>(*client_, entry.location, entry.size, settings_.part_size,
                                         settings_.concurrency);
}

void S3Backend::record_use(const EntryManifest &entry) {
  if (S3Layout::is_legacy_archive(entry.location)) return; // not ours to annotate
  const auto marker = layout_.last_used_name(S3Layout::dir_of(entry.location));
  const auto body = std::to_string(unix_millis_now());
  client_->put_object(marker, bytes_of(body));
}

std::unique_ptr<EntryWriter> S3Backend::create(const std::string &repository, const std::string &ref,
                                               const std::string &version, const std::string &key) {
  const auto dir = layout_.entry_dir(repository, ref, version, key);
  return std::make_unique<S3EntryWriter>(*client_, S3Layout::new_archive_name(dir), S3Layout::manifest_name(dir));
}

std::vector<EntryManifest> S3Backend::list(const ListFilter &filter) {
  const std::string prefix = filter.repository.empty() ? layout_.base()
                             : filter.ref.empty()      ? layout_.repository_prefix(filter.repository)
                                                       : layout_.ref_prefix(filter.repository, filter.ref);
  const auto marker_root = layout_.last_used_root();
  struct Found {
    std::string manifest;
    int64_t committed_ms = 0;
  };
  std::vector<Found> manifests;
  client_->list_objects(prefix, [&](std::vector<s3xml::ListedObject> &&page) {
    for (auto &o : page)
      if (S3Layout::is_manifest(o.name) && !o.name.starts_with(marker_root))
        manifests.push_back({std::move(o.name), o.last_modified_ms});
  });
  std::map<std::string, int64_t> last_used; // entry dir -> marker time
  for (const auto &o : client_->list_objects(marker_root + prefix.substr(layout_.base().size())))
    if (auto dir = layout_.entry_dir_of_marker(o.name)) last_used[*dir] = o.last_modified_ms;

  std::vector<std::optional<EntryManifest>> read(manifests.size());
  parallel_for(manifests.size(), settings_.concurrency * 2,
               [&](size_t i) { read[i] = read_manifest(manifests[i].manifest, "", ""); });
  std::vector<EntryManifest> out;
  for (size_t i = 0; i < manifests.size(); ++i) {
    if (!read[i] || !read[i]->key.starts_with(filter.key_prefix)) continue;
    auto m = std::move(*read[i]);
    const auto dir = S3Layout::dir_of(manifests[i].manifest);
    m.last_used_ms = manifests[i].committed_ms;
    if (auto it = last_used.find(dir); it != last_used.end()) m.last_used_ms = std::max(m.last_used_ms, it->second);
    out.push_back(std::move(m));
  }
  return out;
}

void S3Backend::remove(const EntryManifest &entry) {
  if (S3Layout::is_legacy_archive(entry.location)) {
    client_->delete_object(entry.location);
    return;
  }
  const auto dir = S3Layout::dir_of(entry.location);
  client_->delete_object(S3Layout::manifest_name(dir)); // first: the entry is gone at once
  client_->delete_object(entry.location);
  client_->delete_object(layout_.last_used_name(dir));
}

uint64_t S3Backend::collect_garbage(int64_t min_age_seconds) {
  const int64_t cutoff = unix_millis_now() - min_age_seconds * 1000;
  uint64_t freed = 0;

  // Interrupted multipart uploads (killed jobs) hold storage without being objects.
  for (const auto &u : client_->list_multipart_uploads(layout_.base())) {
    if (u.initiated_ms >= cutoff || !S3Layout::is_archive(u.name)) continue;
    try {
      client_->abort_multipart_upload(u.name, u.upload_id);
      log::info("aborted a stale multipart upload of {}", client_->describe(u.name));
    } catch (const std::exception &e) {
      log::warning("could not abort the stale upload of {}: {}", client_->describe(u.name), e.what());
    }
  }

  struct Dir {
    bool has_manifest = false;
    std::vector<s3xml::ListedObject> archives;
  };
  std::map<std::string, Dir> dirs;
  std::vector<s3xml::ListedObject> markers;
  const auto marker_root = layout_.last_used_root();
  client_->list_objects(layout_.base(), [&](std::vector<s3xml::ListedObject> &&page) {
    for (auto &o : page) {
      if (o.name.starts_with(marker_root))
        markers.push_back(std::move(o));
      else if (S3Layout::is_manifest(o.name))
        dirs[S3Layout::dir_of(o.name)].has_manifest = true;
      else if (S3Layout::is_archive(o.name))
        dirs[S3Layout::dir_of(o.name)].archives.push_back(std::move(o));
    }
  });
  auto drop = [&](const s3xml::ListedObject &o) {
    if (o.last_modified_ms >= cutoff) return;
    client_->delete_object(o.name);
    freed += o.size;
    log::info("deleted {} ({}), left by an interrupted or losing save", client_->describe(o.name), human_bytes(o.size));
  };
  for (const auto &[dir, d] : dirs) {
    if (!d.has_manifest) {
      for (const auto &a : d.archives)
        drop(a);
    } else if (d.archives.size() > 1) {
      const auto m = read_manifest(S3Layout::manifest_name(dir), "", "");
      if (!m) continue; // unreadable: leave it for an operator to look at
      for (const auto &a : d.archives)
        if (a.name != m->location) drop(a);
    }
  }
  for (const auto &marker : markers) {
    const auto dir = layout_.entry_dir_of_marker(marker.name);
    if (!dir || marker.last_modified_ms >= cutoff) continue;
    if (auto it = dirs.find(*dir); it == dirs.end() || !it->second.has_manifest) client_->delete_object(marker.name);
  }
  return freed;
}

} // namespace cachekit::storage
