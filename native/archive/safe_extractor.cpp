#include "archive/safe_extractor.hpp"

#include "archive/background_file_writer.hpp"
#include "archive/disk_writer.hpp"
#include "archive/extract_batch.hpp"
#include "archive/tar_member_reader.hpp"
#include "util/bounded_queue.hpp"
#include "util/error.hpp"

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <fmt/format.h>
#include <functional>
#include <string>
#include <string_view>
#include <sys/stat.h>
#include <thread>
#include <unordered_set>
#include <vector>

namespace cachekit::archive {
namespace {

// Batches in flight between the reading and the writing thread (each up to 4 MiB of data).
constexpr size_t kBatches = 4;

// Files at least this large are written and finished on the background writer's thread.
// Smaller ones stay here: handing them over would cost more than writing them.
constexpr int64_t kBackgroundFileBytes = int64_t{128} << 10;

// Applies extract operations to disk, in order, after checking that no directory on the way
// is a symlink leading outside the cache paths.
class ConfinedApplier {
public:
  explicit ConfinedApplier(const PathRules &rules) : rules_(rules) {}

  void apply(const ExtractBatch &batch, ExtractStats &stats) {
    for (const auto &op : batch.ops) {
      switch (op.kind) {
      case ExtractOp::Kind::Directory:
        check_ancestors(op.path);
        if (writer_.make_directory(op.path, op.meta)) verified_dirs_.insert(op.path);
        ++stats.directories;
        break;
      case ExtractOp::Kind::Symlink:
        check_ancestors(op.path);
        forget_verified(op.path);
        writer_.make_symlink(op.path, op.link.c_str(), op.meta);
        ++stats.symlinks;
        break;
      case ExtractOp::Kind::Hardlink:
        check_ancestors(op.path);
        check_ancestors(op.link); // linking follows symlinks on the way to the target too
        writer_.make_hardlink(op.path, op.link);
        ++stats.hardlinks;
        break;
      case ExtractOp::Kind::FileBegin:
        check_ancestors(op.path);
        file_ = writer_.open_file(op.path, op.meta);
        file_in_background_ = op.offset >= kBackgroundFileBytes;
        if (file_in_background_) background_.begin(std::move(file_));
        break;
      case ExtractOp::Kind::FileData:
        if (file_in_background_)
          background_.write(op.data, op.data_size, op.offset, op.chunk);
        else
          file_.write(op.data, op.data_size, op.offset);
        stats.data_bytes += op.data_size;
        break;
      case ExtractOp::Kind::FileEnd:
        if (file_in_background_)
          background_.end(op.offset);
        else
          file_.close(op.offset);
        ++stats.files;
        break;
      }
    }
  }

  void finish() {
    background_.finish(); // before directories get their final (maybe read-only) modes
    writer_.finish();
  }

private:
  // Every existing directory between the cache root and `dest` must be a real directory,
  // or a symlink that resolves inside the cache paths; otherwise a planted symlink could
  // redirect writes outside.
  void check_ancestors(const std::string &dest_string) {
    const auto slash = dest_string.rfind('/');
    if (slash != std::string::npos && slash > 0 &&
        verified_dirs_.contains(std::string_view(dest_string).substr(0, slash)))
      return; // the common case, without building a path
    const fs::path dest(dest_string);
    const fs::path parent = dest.parent_path();
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
        return; // not a directory: the writer reports the conflict
      }
      verified_dirs_.insert(it->native());
    }
  }

  void forget_verified(const std::string &path) {
    if (verified_dirs_.erase(path) > 0) verified_dirs_.clear();
  }

  const PathRules &rules_;
  DiskWriter writer_;
  BackgroundFileWriter background_;
  FileOutput file_; // the file being written here
  bool file_in_background_ = false;
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_set<std::string, StringHash, std::equal_to<>> verified_dirs_;
};

} // namespace

ExtractStats extract_tar(ByteSource &tar, const PathRules &rules) {
  ByteSourceBlocks blocks(tar);
  return extract_tar(blocks, rules);
}

// Two threads: this one creates files (system calls), a helper reads the tar (libarchive,
// name checks, copying contents into batches). Together they keep two cores busy where
// one thread doing both would leave the creation waiting on the parsing and vice versa.
ExtractStats extract_tar(BlockSource &tar, const PathRules &rules) {
  BoundedQueue<ExtractBatch> filled(kBatches);
  BoundedQueue<ExtractBatch> empty(kBatches);
  for (size_t i = 0; i < kBatches; ++i)
    empty.push(ExtractBatch());
  auto fail_both = [&](const std::exception_ptr &e) {
    filled.fail(e);
    empty.fail(e);
  };

  uint64_t skipped_symlinks = 0;
  std::jthread reader_thread([&] {
    try {
      TarMemberReader reader(tar, rules);
      for (bool more = true; more;) {
        auto batch = empty.pop();
        more = reader.fill(*batch);
        filled.push(std::move(*batch));
      }
      skipped_symlinks = reader.skipped_symlinks();
      filled.close();
    } catch (...) {
      fail_both(std::current_exception());
    }
  });

  ExtractStats stats;
  ConfinedApplier applier(rules);
  try {
    while (auto batch = filled.pop()) {
      applier.apply(*batch, stats);
      batch->clear();
      empty.push(std::move(*batch));
    }
    applier.finish();
  } catch (...) {
    fail_both(std::current_exception());
    reader_thread.join();
    throw;
  }
  reader_thread.join();
  stats.skipped_symlinks = skipped_symlinks;
  return stats;
}

} // namespace cachekit::archive
