#pragma once
// What the tar-reading thread hands to the disk-writing thread: operations in archive
// order. File contents point into the decompressed chunks themselves, which each operation
// keeps alive (also past the batch, for a file finished on another thread); only what
// libarchive had to copy is copied once more, into the batch's own buffer.
#include "archive/disk_writer.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace cachekit::archive {

struct ExtractOp {
  enum class Kind : uint8_t { Directory, Symlink, Hardlink, FileBegin, FileData, FileEnd };
  Kind kind = Kind::FileData;
  std::string path;                // Directory, Symlink, Hardlink, FileBegin: destination (absolute, normal)
  std::string link;                // Symlink: target as archived; Hardlink: the existing file (absolute, normal)
  EntryMeta meta;                  // Directory, Symlink, FileBegin
  int64_t offset = 0;              // FileData: where in the file; FileBegin, FileEnd: the file's size
  const std::byte *data = nullptr; // FileData: its bytes, in `chunk` or else in the batch's `copied`
  size_t data_size = 0;
  std::shared_ptr<const void> chunk; // FileData: the decompressed chunk `data` points into, if any
};

struct ExtractBatch {
  static constexpr size_t kDataCapacity = size_t{4} << 20;
  static constexpr size_t kMaxOps = 1024;

  std::vector<ExtractOp> ops;
  size_t retained_bytes = 0;     // FileData bytes in chunks
  std::vector<std::byte> copied; // never grows past kDataCapacity: pointers into it stay valid

  ExtractBatch() {
    ops.reserve(kMaxOps + 1);
    copied.reserve(kDataCapacity);
  }
  size_t data_bytes() const { return copied.size() + retained_bytes; }
  size_t copy_room() const { return kDataCapacity - std::min(kDataCapacity, data_bytes()); }
  bool full() const { return ops.size() >= kMaxOps || data_bytes() >= kDataCapacity; }
  void clear() {
    ops.clear();
    retained_bytes = 0;
    copied.clear();
  }
};

} // namespace cachekit::archive
