#pragma once
// Writes one entry to the GitHub cache: the archive streams into the signed blob URL that
// CreateCacheEntry handed out — one Put Blob when it fits in one block, otherwise Put Block
// with several blocks in flight (memory: concurrency + 1 blocks) and a Put Block List — and
// FinalizeCacheEntryUpload publishes it with its size. Until then the entry is invisible;
// an uncommitted blob is left for the service to expire.
#include "storage/backend.hpp"
#include "storage/gha_blob.hpp"
#include "storage/gha_twirp.hpp"
#include "storage/s3_buffer.hpp"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

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
  struct Job {
    uint64_t index = 0;
    PageBuffer data;
  };
  void submit(PageBuffer block);
  void worker();

  gha::TwirpClient &twirp_;
  gha::BlobClient blob_;
  std::string key_;
  std::string version_;
  uint64_t block_size_;
  int concurrency_;
  std::string uuid_ = gha::random_uuid();
  PageBuffer pending_;
  uint64_t size_ = 0;
  uint64_t blocks_ = 0;

  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Job> jobs_;
  int busy_ = 0;
  bool stopping_ = false;
  std::exception_ptr failure_;
  std::vector<std::jthread> workers_;
  std::atomic<bool> cancel_{false};

  bool closed_ = false;
  bool uploaded_ = false;
};

} // namespace cachekit::storage
