#pragma once
// Finishes large files on a thread of its own: writes their contents and sets their size,
// owner, mode and times, while the extracting thread goes on creating the next entries.
// Copying contents into the page cache is most of a restore's kernel time, and most bytes
// are in a few large files (95% of a Go build cache's are in files of 128 KiB or more); on
// one thread, every large file held up the creation of all the small ones behind it.
//
// Files are created (and every name checked) by the extracting thread; only open
// descriptors come here, so confinement does not depend on this thread.
#include "archive/disk_writer.hpp"
#include "util/bounded_queue.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

namespace cachekit::archive {

class BackgroundFileWriter {
public:
  // At most `max_queued` pieces (each up to one decompressed chunk) wait at a time.
  explicit BackgroundFileWriter(size_t max_queued = 4);
  // Stops the thread; files not finished by then are closed as they are.
  ~BackgroundFileWriter();
  BackgroundFileWriter(const BackgroundFileWriter &) = delete;
  BackgroundFileWriter &operator=(const BackgroundFileWriter &) = delete;

  // One file after another: begin, its pieces, end. Each call rethrows an earlier failure of
  // the thread. `chunk` keeps `data` alive until written; without one, the bytes are copied.
  void begin(FileOutput file);
  void write(const std::byte *data, size_t size, int64_t offset, std::shared_ptr<const void> chunk);
  void end(int64_t size);

  // Waits until every file is finished; rethrows the thread's failure.
  void finish();

private:
  struct Message {
    enum class Kind : uint8_t { Begin, Write, End } kind = Kind::Write;
    FileOutput file;                   // Begin
    const std::byte *data = nullptr;   // Write: in `chunk` (else the bytes are in `copy`)
    size_t size = 0;                   // Write
    int64_t offset = 0;                // Write: where; End: the file's size
    std::shared_ptr<const void> chunk; // Write
    std::vector<std::byte> copy;       // Write
  };
  void run();

  BoundedQueue<Message> queue_;
  std::jthread thread_;
  bool finished_ = false;
};

} // namespace cachekit::archive
