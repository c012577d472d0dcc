#pragma once
// What the tar-reading thread hands to the disk-writing thread: operations in archive
// order, with file contents copied into one buffer that is reused batch after batch.
#include "archive/disk_writer.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace cachekit::archive {

struct ExtractOp {
  enum class Kind : uint8_t { Directory, Symlink, Hardlink, FileBegin, FileData, FileEnd };
  Kind kind = Kind::FileData;
  std::string path;      // Directory, Symlink, Hardlink, FileBegin: destination (absolute, normal)
  std::string link;      // Symlink: target as archived; Hardlink: the existing file (absolute, normal)
  EntryMeta meta;        // Directory, Symlink, FileBegin
  int64_t offset = 0;    // FileData: where in the file; FileEnd: the file's size
  size_t data_begin = 0; // FileData: its bytes in ExtractBatch::data
  size_t data_size = 0;
};

struct ExtractBatch {
  static constexpr size_t kDataCapacity = size_t{4} << 20;
  static constexpr size_t kMaxOps = 1024;

  std::vector<ExtractOp> ops;
  std::vector<std::byte> data; // never grows past kDataCapacity: no reallocation, no page faults

  ExtractBatch() {
    ops.reserve(kMaxOps + 1);
    data.reserve(kDataCapacity);
  }
  size_t data_room() const { return kDataCapacity - data.size(); }
  bool full() const { return ops.size() >= kMaxOps || data.size() >= kDataCapacity; }
  void clear() {
    ops.clear();
    data.clear();
  }
};

} // namespace cachekit::archive
