#pragma once
// Reads a (decompressed) tar stream with libarchive and describes its members as extract
// operations, batch by batch, for the thread that writes them to disk. Member names are
// confined here (PathRules): a member outside the cache paths stops the stream before any
// operation for it is handed on.
#include "archive/extract_batch.hpp"
#include "archive/path_rules.hpp"
#include "util/byte_stream.hpp"

#include <cstdint>
#include <exception>
#include <memory>
#include <span>

struct archive;
struct archive_entry;

namespace cachekit::archive {

class TarMemberReader {
public:
  TarMemberReader(BlockSource &tar, const PathRules &rules);
  ~TarMemberReader();
  TarMemberReader(const TarMemberReader &) = delete;
  TarMemberReader &operator=(const TarMemberReader &) = delete;

  // Appends operations to `batch` until it is full. False once the archive has ended and
  // everything is in `batch`. Throws IntegrityError when the stream is not a valid tar,
  // UnsafeArchiveError for a member outside the cache paths, or what the source threw.
  bool fill(ExtractBatch &batch);

  uint64_t skipped_symlinks() const { return skipped_symlinks_; }

  // What libarchive's read callback sees.
  struct SourceContext {
    BlockSource *source;
    std::exception_ptr error;
    std::span<const std::byte> block;  // the block libarchive reads from now
    std::shared_ptr<const void> owner; // keeps it alive past the next read, if the source can
  };

private:
  struct Libarchive;
  [[noreturn]] void fail_read() const;
  void add_member(ExtractBatch &batch, archive_entry *entry);
  // Copies file data into `batch`; false when the batch filled up first.
  bool copy_file_data(ExtractBatch &batch);

  const PathRules &rules_;
  SourceContext source_;
  std::unique_ptr<Libarchive> la_;
  bool in_file_ = false;
  int64_t file_size_ = 0;
  // The part of libarchive's current data block that did not fit into the last batch.
  const std::byte *pending_ = nullptr;
  size_t pending_size_ = 0;
  int64_t pending_offset_ = 0;
  uint64_t skipped_symlinks_ = 0;
};

} // namespace cachekit::archive
