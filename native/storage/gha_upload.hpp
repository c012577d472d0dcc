#pragma once
// Writes one entry to the GitHub cache: the archive streams into the signed blob URL that
// CreateCacheEntry handed out — one Put Blob when it fits in one block, otherwise Put Block
// with several blocks in flight (memory: concurrency + 1 blocks) and a Put Block List — and
// FinalizeCacheEntryUpload publishes it with its size. Until then the entry is invisible;
// an uncommitted blob is left for the service to expire.
#include "storage/backend.hpp"
#include "storage/gha_blob.hpp"
#include "storage/gha_twirp.hpp"
#include "storage/parallel_upload.hpp"
#include "storage/s3_buffer.hpp"

#include <string>

namespace cachekit::storage {

class GhaEntryWriter : public EntryWriter {
public:
  GhaEntryWriter(gha::TwirpClient &twirp, gha::BlobClient blob, std::string key, std::string version,
                 uint64_t block_size, int concurrency);
  ~GhaEntryWriter() override; // cancels and joins uploads still in flight

  void write(std::span<const std::byte> data) override;
  void close() override;
  bool commit(const EntryManifest &manifest) override;

private:
  gha::TwirpClient &twirp_;
  gha::BlobClient blob_;
  std::string key_;
  std::string version_;
  uint64_t block_size_;
  std::string uuid_ = gha::random_uuid();
  PageBuffer pending_;
  uint64_t size_ = 0;
  bool closed_ = false;
  bool uploaded_ = false;
  ParallelUploader blocks_; // last member: its workers use blob_ and uuid_
};

} // namespace cachekit::storage
