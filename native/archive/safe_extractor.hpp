#pragma once
// Extracts a tar stream onto disk, confined to the declared cache paths, over an existing
// tree, without root: read-only directories (the Go module cache) are opened for writing
// while their entries are replaced and get their archived (or original) mode back after.
#include "archive/path_rules.hpp"
#include "util/byte_stream.hpp"

#include <cstdint>

namespace cachekit::archive {

struct ExtractStats {
  uint64_t files = 0;
  uint64_t directories = 0;
  uint64_t symlinks = 0;
  uint64_t hardlinks = 0;
  uint64_t data_bytes = 0;
  uint64_t skipped_symlinks = 0; // links pointing outside the cache paths, not created
};

// Reads a (decompressed) tar stream from `tar` and writes it to disk. Throws
// UnsafeArchiveError before writing a member that would land outside `rules`' roots,
// IntegrityError when the stream is not a valid tar, OperationError on I/O failures.
ExtractStats extract_tar(BlockSource &tar, const PathRules &rules);
ExtractStats extract_tar(ByteSource &tar, const PathRules &rules);

} // namespace cachekit::archive
