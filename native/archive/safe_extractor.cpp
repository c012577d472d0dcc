#include "archive/safe_extractor.hpp"

#include "util/error.hpp"
#include "util/log.hpp"

#include <algorithm>
#include <archive.h>
#include <archive_entry.h>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <fmt/format.h>
#include <memory>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace cachekit::archive {
namespace {

struct ReadDeleter {
  void operator()(struct archive *a) const { archive_read_free(a); }
};
struct WriteDeleter {
  void operator()(struct archive *a) const { archive_write_free(a); }
};

struct ReadContext {
  BlockSource *source;
  std::exception_ptr error;
};

la_ssize_t read_callback(struct archive *a, void *client, const void **out) {
  auto *ctx = static_cast<ReadContext *>(client);
  try {
    const auto block = ctx->source->next_block(); // read in place: no copy
    *out = block.data();
    return static_cast<la_ssize_t>(block.size());
  } catch (...) {
    ctx->error = std::current_exception();
    archive_set_error(a, EIO, "upstream stream failed");
    return -1;
  }
}

class Extractor {
public:
  explicit Extractor(const PathRules &rules) : rules_(rules), is_root_(::geteuid() == 0) {}

  ExtractStats run(BlockSource &tar) {
    ReadContext ctx{&tar, nullptr};
    std::unique_ptr<struct archive, ReadDeleter> in(archive_read_new());
    std::unique_ptr<struct archive, WriteDeleter> out(archive_write_disk_new());
    if (!in || !out) throw OperationError("tar: cannot create libarchive reader/writer");
    archive_read_support_format_tar(in.get());
    archive_read_support_format_gnutar(in.get());
    archive_read_support_filter_none(in.get());
    int flags = ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_SECURE_NODOTDOT;
    if (is_root_) flags |= ARCHIVE_EXTRACT_OWNER;
    archive_write_disk_set_options(out.get(), flags);

    if (archive_read_open(in.get(), &ctx, nullptr, read_callback, nullptr) != ARCHIVE_OK) fail_read(in.get(), ctx);

    ExtractStats stats;
    for (;;) {
      archive_entry *entry = nullptr;
      const int rc = archive_read_next_header(in.get(), &entry);
      if (rc == ARCHIVE_EOF) break;
      if (rc < ARCHIVE_WARN) fail_read(in.get(), ctx);
      extract_entry(in.get(), out.get(), entry, ctx, stats);
    }
    if (archive_write_close(out.get()) != ARCHIVE_OK)
      throw OperationError(fmt::format("extract: {}", archive_error_string(out.get())));
    restore_directory_modes();
    return stats;
  }

  ~Extractor() {
    // On failure, still give read-only directories their mode back.
    try {
      restore_directory_modes();
    } catch (...) {
    }
  }

private:
  [[noreturn]] static void fail_read(struct archive *in, const ReadContext &ctx) {
    if (ctx.error) std::rethrow_exception(ctx.error);
    const char *msg = archive_error_string(in);
    throw IntegrityError(fmt::format("archive is not a valid tar stream: {}", msg ? msg : "unknown error"));
  }

  void extract_entry(struct archive *in, struct archive *out, archive_entry *entry, ReadContext &ctx,
                     ExtractStats &stats) {
    const char *raw_name = archive_entry_pathname(entry);
    const std::string name = raw_name ? raw_name : "";
    const fs::path dest = rules_.resolve_member(name);
    const auto type = archive_entry_filetype(entry);

    if (type == AE_IFLNK) {
      // A link that leads outside is never created: nothing may later write (or be
      // tricked into writing) through it. Honest caches have such links too (pnpm's
      // store keeps projects/<hash> -> the project), so skip it and say so; the restore
      // goes on.
      const char *target = archive_entry_symlink(entry);
      if (!rules_.symlink_stays_inside(dest, target ? target : "")) {
        if (stats.skipped_symlinks++ < 3)
          log::warning("not restoring symlink {} -> {}: it points outside the cache paths", dest.string(),
                       target ? target : "");
        return;
      }
    }
    if (const char *link = archive_entry_hardlink(entry)) {
      const fs::path target = rules_.resolve_member(link);
      archive_entry_copy_hardlink(entry, target.c_str());
    }
    if (type != AE_IFDIR && type != AE_IFREG && type != AE_IFLNK && !archive_entry_hardlink(entry)) {
      log::warning("skipping archive member '{}': unsupported file type", name);
      return;
    }

    check_ancestors(dest);
    make_parent_writable(dest.parent_path());
    if (type == AE_IFLNK) forget_verified(dest);

    archive_entry_copy_pathname(entry, dest.c_str());
    if (type == AE_IFDIR) archived_dir_modes_[dest.native()] = archive_entry_perm(entry);

    int rc = archive_write_header(out, entry);
    if (rc < ARCHIVE_WARN)
      throw OperationError(fmt::format("cannot extract {}: {}", dest.string(), archive_error_string(out)));
    if (archive_entry_size(entry) > 0 && rc >= ARCHIVE_WARN) copy_data(in, out, ctx, dest, stats);
    rc = archive_write_finish_entry(out);
    if (rc < ARCHIVE_WARN)
      throw OperationError(fmt::format("cannot finish {}: {}", dest.string(), archive_error_string(out)));
    if (rc == ARCHIVE_WARN) log::debug("extract {}: {}", dest.string(), archive_error_string(out));

    if (archive_entry_hardlink(entry))
      ++stats.hardlinks;
    else if (type == AE_IFDIR) {
      ++stats.directories;
      verified_dirs_.insert(dest.native());
    } else if (type == AE_IFLNK)
      ++stats.symlinks;
    else
      ++stats.files;
  }

  void copy_data(struct archive *in, struct archive *out, ReadContext &ctx, const fs::path &dest, ExtractStats &stats) {
    const void *block = nullptr;
    size_t size = 0;
    la_int64_t offset = 0;
    for (;;) {
      const int rc = archive_read_data_block(in, &block, &size, &offset);
      if (rc == ARCHIVE_EOF) return;
      if (rc < ARCHIVE_WARN) fail_read(in, ctx);
      if (archive_write_data_block(out, block, size, offset) < ARCHIVE_WARN)
        throw OperationError(fmt::format("cannot write {}: {}", dest.string(), archive_error_string(out)));
      stats.data_bytes += size;
    }
  }

  // Every existing directory between the cache root and `dest` must be a real directory,
  // or a symlink that resolves inside the cache paths; otherwise a planted symlink could
  // redirect writes outside.
  void check_ancestors(const fs::path &dest) {
    const fs::path parent = dest.parent_path();
    if (verified_dirs_.contains(parent.native())) return;
    const fs::path &root = rules_.root_of(dest);
    std::vector<fs::path> chain;
    for (fs::path p = parent; is_within(p, root) && p != root; p = p.parent_path())
      chain.push_back(p);
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
      if (verified_dirs_.contains(it->native())) continue;
      struct stat st {};
      if (::lstat(it->c_str(), &st) != 0) {
        if (errno == ENOENT) return; // the rest will be created as plain directories
        throw_errno("cannot inspect " + it->string());
      }
      if (S_ISLNK(st.st_mode)) {
        char resolved[PATH_MAX];
        if (!::realpath(it->c_str(), resolved) || !rules_.inside_roots(normalize_lexically(resolved)))
          throw UnsafeArchiveError(
              fmt::format("refusing to extract {}: {} is a symlink that leads outside the cache paths", dest.string(),
                          it->string()));
      } else if (!S_ISDIR(st.st_mode)) {
        return; // not a directory: libarchive reports the conflict
      }
      verified_dirs_.insert(it->native());
    }
  }

  void forget_verified(const fs::path &path) {
    if (verified_dirs_.erase(path.native()) > 0) verified_dirs_.clear();
  }

  // As non-root we cannot replace entries of a read-only directory we own (Go's module
  // cache is 0555). Add u+w for the duration and put the mode back afterwards.
  void make_parent_writable(const fs::path &parent) {
    if (is_root_ || writable_checked_.contains(parent.native())) return;
    writable_checked_.insert(parent.native());
    struct stat st {};
    if (::stat(parent.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return;
    if ((st.st_mode & S_IWUSR) || st.st_uid != ::geteuid()) return;
    if (::chmod(parent.c_str(), (st.st_mode & 07777) | S_IWUSR) != 0)
      throw_errno("cannot make " + parent.string() + " writable");
    opened_dirs_[parent.native()] = st.st_mode & 07777;
  }

  void restore_directory_modes() {
    // Deepest first, so a parent is closed again only after its children are done.
    std::vector<std::pair<std::string, mode_t>> dirs(opened_dirs_.begin(), opened_dirs_.end());
    std::sort(dirs.begin(), dirs.end(), [](const auto &a, const auto &b) { return a.first.size() > b.first.size(); });
    for (const auto &[path, original] : dirs) {
      auto archived = archived_dir_modes_.find(path);
      const mode_t mode = archived != archived_dir_modes_.end() ? archived->second : original;
      if (::chmod(path.c_str(), mode) != 0 && errno != ENOENT)
        log::warning("cannot restore the mode of {}: {}", path, std::strerror(errno));
    }
    opened_dirs_.clear();
  }

  const PathRules &rules_;
  const bool is_root_;
  std::unordered_set<std::string> verified_dirs_;
  std::unordered_set<std::string> writable_checked_;
  std::unordered_map<std::string, mode_t> opened_dirs_;
  std::unordered_map<std::string, mode_t> archived_dir_modes_;
};

} // namespace

ExtractStats extract_tar(ByteSource &tar, const PathRules &rules) {
  ByteSourceBlocks blocks(tar);
  return extract_tar(blocks, rules);
}

ExtractStats extract_tar(BlockSource &tar, const PathRules &rules) {
  Extractor extractor(rules);
  return extractor.run(tar);
}

} // namespace cachekit::archive
