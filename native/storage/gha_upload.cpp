#include "storage/gha_upload.hpp"

#include "util/error.hpp"
#include "util/log.hpp"
#include "util/strings.hpp"

#include <fmt/format.h>

namespace cachekit::storage {

GhaEntryWriter::GhaEntryWriter(gha::TwirpClient &twirp, gha::BlobClient blob, std::string key, std::string version,
                               uint64_t block_size, int concurrency)
    : twirp_(twirp), blob_(std::move(blob)), key_(std::move(key)), version_(std::move(version)),
      block_size_(block_size),
      blocks_(concurrency, [this](uint64_t index, std::span<const std::byte> data, const std::atomic<bool> *cancel) {
        blob_.put_block(gha::block_id(uuid_, index), data, index == 0, cancel);
        return std::string(); // Put Block List names the blocks by id: no receipt
      }) {}

GhaEntryWriter::~GhaEntryWriter() = default; // blocks_ cancels and joins

void GhaEntryWriter::write(std::span<const std::byte> data) {
  if (closed_) throw OperationError("GitHub cache writer: write after close");
  while (!data.empty()) {
    // A full block goes out only once more bytes follow: an archive of exactly one block
    // is still a single Put Blob.
    if (pending_.capacity() != 0 && pending_.size() == pending_.capacity()) blocks_.submit(std::move(pending_));
    if (pending_.capacity() == 0) pending_ = PageBuffer(block_size_);
    const size_t n = pending_.append(data);
    data = data.subspan(n);
    size_ += n;
  }
}

void GhaEntryWriter::close() {
  if (closed_) return;
  closed_ = true;
  if (blocks_.submitted() == 0) {
    blob_.put_blob(pending_.bytes());
    pending_ = PageBuffer();
    uploaded_ = true;
    log::debug("uploaded {} to {} in one request", human_bytes(size_), blob_.describe());
    return;
  }
  if (!pending_.empty()) blocks_.submit(std::move(pending_));
  pending_ = PageBuffer();
  blocks_.finish();
  std::vector<std::string> ids;
  for (uint64_t i = 0; i < blocks_.submitted(); ++i)
    ids.push_back(gha::block_id(uuid_, i));
  blob_.put_block_list(ids);
  uploaded_ = true;
  log::debug("uploaded {} to {} in {} blocks", human_bytes(size_), blob_.describe(), blocks_.submitted());
}

bool GhaEntryWriter::commit(const EntryManifest &manifest) {
  if (!uploaded_) throw OperationError("GitHub cache writer: commit before the archive was uploaded");
  if (manifest.size != size_)
    throw OperationError(
        fmt::format("GitHub cache writer: {} bytes uploaded but the manifest says {}", size_, manifest.size));
  return twirp_.finalize(key_, version_, size_);
}

} // namespace cachekit::storage
