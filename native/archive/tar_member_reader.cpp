#include "archive/tar_member_reader.hpp"

#include "util/error.hpp"
#include "util/log.hpp"

#include <algorithm>
#include <archive.h>
#include <archive_entry.h>
#include <cerrno>
#include <cstring>
#include <fmt/format.h>

namespace cachekit::archive {

struct TarMemberReader::Libarchive {
  struct ReadDeleter {
    void operator()(struct archive *a) const { archive_read_free(a); }
  };
  std::unique_ptr<struct archive, ReadDeleter> in{archive_read_new()};
};

namespace {

la_ssize_t read_callback(struct archive *a, void *client, const void **out) {
  auto *ctx = static_cast<TarMemberReader::SourceContext *>(client);
  try {
    const auto block = ctx->source->next_block(); // read in place: no copy
    ctx->block = block;
    ctx->owner = ctx->source->retain_block();
    *out = block.data();
    return static_cast<la_ssize_t>(block.size());
  } catch (...) {
    ctx->error = std::current_exception();
    archive_set_error(a, EIO, "upstream stream failed");
    return -1;
  }
}

EntryMeta meta_of(archive_entry *entry) {
  EntryMeta meta;
  meta.mode = archive_entry_perm(entry) & 07777;
  meta.uid = static_cast<uid_t>(archive_entry_uid(entry));
  meta.gid = static_cast<gid_t>(archive_entry_gid(entry));
  meta.mtime = {static_cast<time_t>(archive_entry_mtime(entry)), archive_entry_mtime_nsec(entry)};
  if (archive_entry_atime_is_set(entry))
    meta.atime = timespec{static_cast<time_t>(archive_entry_atime(entry)), archive_entry_atime_nsec(entry)};
  return meta;
}

} // namespace

TarMemberReader::TarMemberReader(BlockSource &tar, const PathRules &rules)
    : rules_(rules), source_{&tar, nullptr, {}, nullptr}, la_(std::make_unique<Libarchive>()) {
  struct archive *in = la_->in.get();
  if (!in) throw OperationError("tar: cannot create a libarchive reader");
  archive_read_support_format_tar(in);
  archive_read_support_format_gnutar(in);
  archive_read_support_filter_none(in);
  if (archive_read_open(in, &source_, nullptr, read_callback, nullptr) != ARCHIVE_OK) fail_read();
}

TarMemberReader::~TarMemberReader() = default;

void TarMemberReader::fail_read() const {
  if (source_.error) std::rethrow_exception(source_.error);
  const char *msg = archive_error_string(la_->in.get());
  throw IntegrityError(fmt::format("archive is not a valid tar stream: {}", msg ? msg : "unknown error"));
}

bool TarMemberReader::fill(ExtractBatch &batch) {
  struct archive *in = la_->in.get();
  while (!batch.full()) {
    if (in_file_) {
      if (!copy_file_data(batch)) return true;
      continue;
    }
    archive_entry *entry = nullptr;
    const int rc = archive_read_next_header(in, &entry);
    if (rc == ARCHIVE_EOF) return false;
    if (rc < ARCHIVE_WARN) fail_read();
    add_member(batch, entry);
  }
  return true;
}

void TarMemberReader::add_member(ExtractBatch &batch, archive_entry *entry) {
  const char *raw_name = archive_entry_pathname(entry);
  const std::string_view name = raw_name ? raw_name : "";
  fs::path dest = rules_.resolve_member(name);
  const auto type = archive_entry_filetype(entry);
  const char *hardlink = archive_entry_hardlink(entry);

  ExtractOp op;
  if (hardlink) {
    op.kind = ExtractOp::Kind::Hardlink;
    op.link = rules_.resolve_member(hardlink).native();
  } else if (type == AE_IFDIR) {
    op.kind = ExtractOp::Kind::Directory;
  } else if (type == AE_IFLNK) {
    // A link that leads outside is never created: nothing may later write (or be tricked
    // into writing) through it. Honest caches have such links too (pnpm's store keeps
    // projects/<hash> -> the project), so skip it and say so; the restore goes on.
    const char *target = archive_entry_symlink(entry);
    if (!rules_.symlink_stays_inside(dest, target ? target : "")) {
      if (skipped_symlinks_++ < 3)
        log::warning("not restoring symlink {} -> {}: it points outside the cache paths", dest.string(),
                     target ? target : "");
      return;
    }
    op.kind = ExtractOp::Kind::Symlink;
    op.link = target;
  } else if (type == AE_IFREG) {
    op.kind = ExtractOp::Kind::FileBegin;
    in_file_ = true;
    file_size_ = archive_entry_size(entry);
    op.offset = file_size_;
  } else {
    log::warning("skipping archive member '{}': unsupported file type", name);
    return;
  }
  op.path = std::move(dest).native();
  if (op.kind != ExtractOp::Kind::Hardlink) op.meta = meta_of(entry);
  batch.ops.push_back(std::move(op));
}

bool TarMemberReader::copy_file_data(ExtractBatch &batch) {
  for (;;) {
    if (pending_size_ == 0) {
      const void *block = nullptr;
      size_t size = 0;
      la_int64_t offset = 0;
      const int rc = archive_read_data_block(la_->in.get(), &block, &size, &offset);
      if (rc == ARCHIVE_EOF) {
        ExtractOp end;
        end.kind = ExtractOp::Kind::FileEnd;
        end.offset = file_size_;
        batch.ops.push_back(std::move(end));
        in_file_ = false;
        return true;
      }
      if (rc < ARCHIVE_WARN) fail_read();
      pending_ = static_cast<const std::byte *>(block);
      pending_size_ = size;
      pending_offset_ = offset;
      if (size == 0) continue;
    }
    if (batch.full()) return false;
    ExtractOp data;
    data.kind = ExtractOp::Kind::FileData;
    data.offset = pending_offset_;
    size_t n = pending_size_;
    const std::byte *block_begin = source_.block.data();
    if (source_.owner && pending_ >= block_begin && pending_ + n <= block_begin + source_.block.size()) {
      // In a chunk the source lets us keep: hand the bytes on where they are.
      data.data = pending_;
      data.chunk = source_.owner;
      batch.retained_bytes += n;
    } else {
      n = std::min(n, batch.copy_room());
      data.data = batch.copied.data() + batch.copied.size();
      batch.copied.insert(batch.copied.end(), pending_, pending_ + n);
    }
    data.data_size = n;
    batch.ops.push_back(std::move(data));
    pending_ += n;
    pending_size_ -= n;
    pending_offset_ += static_cast<int64_t>(n);
  }
}

} // namespace cachekit::archive
