#include "storage/s3_upload.hpp"

#include "storage/s3_layout.hpp"
#include "util/error.hpp"
#include "util/log.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace cachekit::storage {

uint64_t S3EntryWriter::part_size_for(uint64_t base, int part_number) {
  const int doublings = std::min((part_number - 1) / 1000, 8);
  return std::min<uint64_t>(base << doublings, 5ull << 30);
}

S3EntryWriter::S3EntryWriter(S3Client &client, std::string archive_name, std::string manifest_name)
    : client_(client), archive_name_(std::move(archive_name)), manifest_name_(std::move(manifest_name)),
      current_part_size_(client.settings().part_size),
      parts_(client.settings().concurrency,
             [this](uint64_t index, std::span<const std::byte> data, const std::atomic<bool> *cancel) {
               // S3 part numbers are 1-based; the ETag is what CompleteMultipartUpload needs.
               return client_.upload_part(archive_name_, upload_id_, static_cast<int>(index) + 1, data, cancel);
             }) {}

S3EntryWriter::~S3EntryWriter() {
  parts_.stop(); // no part may still be in flight when the upload is aborted
  if (!committed_) cleanup();
}

void S3EntryWriter::cleanup() noexcept {
  try {
    if (!upload_id_.empty() && !archive_written_) {
      client_.abort_multipart_upload(archive_name_, upload_id_);
      log::debug("aborted the multipart upload of {}", client_.describe(archive_name_));
    } else if (archive_written_) {
      client_.delete_object(archive_name_);
      log::debug("deleted the uncommitted archive {}", client_.describe(archive_name_));
    }
  } catch (const std::exception &e) {
    // Invisible either way (no manifest); collect_garbage removes it later.
    log::warning("could not clean up the unfinished upload {}: {}", client_.describe(archive_name_), e.what());
  }
}

void S3EntryWriter::write(std::span<const std::byte> data) {
  if (closed_) throw OperationError("S3 writer: write after close");
  while (!data.empty()) {
    if (pending_.capacity() == 0) pending_ = PageBuffer(current_part_size_);
    data = data.subspan(pending_.append(data));
    if (pending_.size() == pending_.capacity()) submit(std::move(pending_));
  }
}

void S3EntryWriter::submit(PageBuffer part) {
  if (upload_id_.empty()) {
    upload_id_ = client_.create_multipart_upload(archive_name_);
    log::debug("multipart upload of {} started ({} per part, {} in flight)", client_.describe(archive_name_),
               current_part_size_, parts_.concurrency());
  }
  parts_.submit(std::move(part));
  current_part_size_ = part_size_for(client_.settings().part_size, static_cast<int>(parts_.submitted()) + 1);
}

void S3EntryWriter::close() {
  if (closed_) return;
  closed_ = true;
  if (upload_id_.empty()) {
    // Fits in one part: one PUT, no multipart bookkeeping.
    client_.put_object(archive_name_, pending_.bytes(), http::Payload::Unsigned);
    pending_ = PageBuffer();
    archive_written_ = true;
    return;
  }
  if (!pending_.empty()) submit(std::move(pending_));
  pending_ = PageBuffer();
  const std::vector<std::string> etags = parts_.finish();
  if (etags.size() != parts_.submitted() ||
      std::any_of(etags.begin(), etags.end(), [](const auto &e) { return e.empty(); }))
    throw ServiceError(fmt::format("S3 upload of {}: a part has no ETag", client_.describe(archive_name_)));
  client_.complete_multipart_upload(archive_name_, upload_id_, etags);
  archive_written_ = true;
  log::debug("uploaded {} in {} parts", client_.describe(archive_name_), etags.size());
}

bool S3EntryWriter::commit(const EntryManifest &manifest) {
  if (!archive_written_) throw OperationError("S3 writer: commit before the archive was written");
  auto j = to_json(manifest);
  // Relative, so a manifest can only ever point into its own entry directory.
  j["archive"] = archive_name_.substr(S3Layout::dir_of(archive_name_).size());
  const auto body = j.dump(2) + "\n";
  const bool won = client_.put_object_if_absent(manifest_name_, body);
  if (!won) {
    log::debug("{} exists already: another writer committed first", client_.describe(manifest_name_));
    cleanup(); // deletes our archive
  }
  committed_ = true; // nothing of ours is left to clean up either way
  return won;
}

} // namespace cachekit::storage
