#include "storage/local_backend.hpp"

#include "storage/key_match.hpp"
#include "util/direct_file_writer.hpp"
#include "util/error.hpp"
#include "util/log.hpp"
#include "util/sha256.hpp"
#include "util/strings.hpp"

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sys/stat.h>
#include <unistd.h>

namespace cachekit::storage {
namespace {

int64_t mtime_ms(const struct stat &st) {
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1000000;
}

class FileSource : public ByteSource {
public:
  explicit FileSource(const fs::path &path) : path_(path), fd_(open_or_throw(path, O_RDONLY)) {
    ::posix_fadvise(fd_.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
  }
  size_t read(std::span<std::byte> out) override {
    for (;;) {
      ssize_t n = ::read(fd_.get(), out.data(), out.size());
      if (n >= 0) return static_cast<size_t>(n);
      if (errno != EINTR) throw_errno("cannot read " + path_.string());
    }
  }

private:
  fs::path path_;
  UniqueFd fd_;
};

void mkdirs(const fs::path &dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw OperationError(fmt::format("cannot create {}: {}", dir.string(), ec.message()));
}

class LocalEntryWriter : public EntryWriter {
public:
  LocalEntryWriter(LocalBackend &backend, fs::path manifest_path)
      : backend_(backend), manifest_path_(std::move(manifest_path)) {
    mkdirs(backend_.root() / "tmp");
    tmp_blob_ = backend_.root() / "tmp" / (random_hex(12) + ".partial");
    file_.emplace(tmp_blob_);
  }
  ~LocalEntryWriter() override {
    if (!committed_) ::unlink(tmp_blob_.c_str());
  }

  void write(std::span<const std::byte> data) override { file_->write(data); }
  void close() override { file_->finish(); }

  bool commit(const EntryManifest &manifest) override {
    if (manifest.sha256.size() != 64) throw OperationError("local backend: manifest has no sha256");
    const auto blob = backend_.blob_path(manifest.sha256);
    mkdirs(blob.parent_path());
    file_.reset();
    // Same content, same name: an existing blob is identical, so renaming over it is safe.
    if (::rename(tmp_blob_.c_str(), blob.c_str()) != 0) throw_errno("cannot publish " + blob.string());
    committed_ = true;
    fsync_directory(blob.parent_path());

    mkdirs(manifest_path_.parent_path());
    const auto tmp_manifest = backend_.root() / "tmp" / (random_hex(12) + ".json");
    EntryManifest m = manifest;
    write_file_atomic(tmp_manifest, to_json(m).dump(2) + "\n");
    const int rc = ::link(tmp_manifest.c_str(), manifest_path_.c_str());
    const int err = errno;
    ::unlink(tmp_manifest.c_str());
    if (rc != 0) {
      if (err == EEXIST) return false;
      throw_errno("cannot publish " + manifest_path_.string(), err);
    }
    fsync_directory(manifest_path_.parent_path());
    return true;
  }

private:
  LocalBackend &backend_;
  fs::path manifest_path_;
  fs::path tmp_blob_;
  std::optional<DirectFileWriter> file_;
  bool committed_ = false;
};

} // namespace

std::string encode_component(const std::string &s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '.' || c == '_' || c == '-')
      out += static_cast<char>(c);
    else
      out += fmt::format("%{:02X}", c);
  }
  if (out == "." || out == "..") out = fmt::format("%2E{}", out.substr(1));
  return out;
}

std::string decode_component(const std::string &s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

LocalBackend::LocalBackend(fs::path root) : root_(std::move(root)) {
  mkdirs(root_);
}

fs::path LocalBackend::manifest_path(const std::string &repository, const std::string &ref, const std::string &version,
                                     const std::string &key) const {
  return root_ / "entries" / encode_component(repository) / encode_component(ref) / version /
         (Sha256::hex(key).substr(0, 40) + ".json");
}

fs::path LocalBackend::blob_path(const std::string &sha256) const {
  return root_ / "blobs" / sha256.substr(0, 2) / (sha256 + ".tzst");
}

std::vector<EntryManifest> LocalBackend::list_version_dir(const fs::path &dir) const {
  std::vector<EntryManifest> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const auto &p = it->path();
    if (p.extension() != ".json") continue;
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0) continue; // removed meanwhile
    try {
      auto m = manifest_from_json(nlohmann::json::parse(read_file(p)));
      m.last_used_ms = mtime_ms(st);
      m.location = p.string();
      out.push_back(std::move(m));
    } catch (const std::exception &e) {
      log::warning("ignoring unreadable manifest {}: {}", p.string(), e.what());
    }
  }
  return out;
}

std::optional<LookupResult> LocalBackend::lookup(const LookupRequest &request) {
  std::map<std::string, std::vector<EntryManifest>> by_ref; // each scope listed once
  return select_entry(request, [&](const std::string &ref, const std::string &) {
    auto it = by_ref.find(ref);
    if (it == by_ref.end()) {
      const auto dir =
          root_ / "entries" / encode_component(request.repository) / encode_component(ref) / request.version;
      it = by_ref.emplace(ref, list_version_dir(dir)).first;
    }
    return it->second;
  });
}

bool LocalBackend::exists(const std::string &repository, const std::string &ref, const std::string &version,
                          const std::string &key) {
  struct stat st {};
  return ::stat(manifest_path(repository, ref, version, key).c_str(), &st) == 0;
}

std::unique_ptr<ByteSource> LocalBackend::open(const EntryManifest &entry) {
  return std::make_unique<FileSource>(blob_path(entry.sha256));
}

void LocalBackend::record_use(const EntryManifest &entry) {
  if (::utimensat(AT_FDCWD, entry.location.c_str(), nullptr, 0) != 0)
    log::warning("cannot record last use of {}: {}", entry.location, std::strerror(errno));
}

std::unique_ptr<EntryWriter> LocalBackend::create(const std::string &repository, const std::string &ref,
                                                  const std::string &version, const std::string &key) {
  return std::make_unique<LocalEntryWriter>(*this, manifest_path(repository, ref, version, key));
}

std::vector<EntryManifest> LocalBackend::list(const ListFilter &filter) {
  std::vector<EntryManifest> out;
  std::error_code ec;
  const auto entries = root_ / "entries";
  for (fs::directory_iterator repo(entries, ec), end; !ec && repo != end; repo.increment(ec)) {
    if (!filter.repository.empty() && repo->path().filename() != encode_component(filter.repository)) continue;
    std::error_code ec2;
    for (fs::directory_iterator ref(repo->path(), ec2); !ec2 && ref != end; ref.increment(ec2)) {
      if (!filter.ref.empty() && ref->path().filename() != encode_component(filter.ref)) continue;
      std::error_code ec3;
      for (fs::directory_iterator ver(ref->path(), ec3); !ec3 && ver != end; ver.increment(ec3)) {
        for (auto &m : list_version_dir(ver->path()))
          if (m.key.starts_with(filter.key_prefix)) out.push_back(std::move(m));
      }
    }
  }
  return out;
}

void LocalBackend::remove(const EntryManifest &entry) {
  if (::unlink(entry.location.c_str()) != 0 && errno != ENOENT) throw_errno("cannot remove " + entry.location);
}

uint64_t LocalBackend::collect_garbage(int64_t min_age_seconds) {
  const int64_t now_ms = unix_millis_now();
  uint64_t freed = 0;
  std::set<std::string> referenced;
  for (const auto &m : list({}))
    referenced.insert(m.sha256);
  std::error_code ec;
  auto old_enough = [&](const fs::path &p, uint64_t &size) {
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0) return false;
    size = static_cast<uint64_t>(st.st_size);
    return now_ms - mtime_ms(st) >= min_age_seconds * 1000;
  };
  for (fs::recursive_directory_iterator it(root_ / "blobs", ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_regular_file()) continue;
    const auto sha = it->path().stem().string();
    uint64_t size = 0;
    if (!referenced.contains(sha) && old_enough(it->path(), size) && ::unlink(it->path().c_str()) == 0) freed += size;
  }
  for (fs::directory_iterator it(root_ / "tmp", ec), end; !ec && it != end; it.increment(ec)) {
    uint64_t size = 0;
    if (old_enough(it->path(), size) && ::unlink(it->path().c_str()) == 0) freed += size;
  }
  return freed;
}

} // namespace cachekit::storage
