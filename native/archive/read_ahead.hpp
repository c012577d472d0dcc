#pragma once
// Reading the plan's files ahead of the tar writer, only when the disk is cold.
#include "archive/file_opener.hpp"
#include "archive/plan.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <sys/types.h>
#include <thread>
#include <unordered_set>
#include <vector>

namespace cachekit::archive {

// Warms the page cache for regular files ahead of the writer: the writer reads one file
// at a time, which leaves a cold disk idle between requests. It starts only when the writer
// finds data that is not cached: on a warm tree (or tmpfs) its open/fadvise/close per file
// would only take CPU from compression (measured: 20% of a warm pnpm save's CPU, 45k files).
class ReadAhead {
public:
  explicit ReadAhead(const std::vector<PlannedEntry> &entries) : entries_(entries) {}
  ReadAhead(const ReadAhead &) = delete;
  ReadAhead &operator=(const ReadAhead &) = delete;
  ~ReadAhead();
  // The writer is at entries[index].
  void advance(size_t index) { writer_index_.store(index, std::memory_order_relaxed); }
  // The writer had to wait for the disk: from now on, read ahead of it.
  void start();
  bool started() const { return thread_.joinable(); }

private:
  void run();
  uint64_t size_of(size_t i) const;

  const std::vector<PlannedEntry> &entries_;
  FileOpener opener_; // its own: the writer's is used on the writer's thread
  std::atomic<size_t> writer_index_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// Reads like read(2), but until the read-ahead runs, first asks for cached data only
// (RWF_NOWAIT): a read that would wait for the disk starts the read-ahead. tmpfs cannot
// answer that (EOPNOTSUPP), but there everything is in memory anyway.
class MissNoticingReader {
public:
  explicit MissNoticingReader(ReadAhead &read_ahead) : read_ahead_(read_ahead) {}
  // `dev`: the file's device, to remember which ones are memory.
  ssize_t read(int fd, uint64_t dev, char *data, size_t size);

private:
  ReadAhead &read_ahead_;
  std::unordered_set<uint64_t> memory_devices_;
};

} // namespace cachekit::archive
