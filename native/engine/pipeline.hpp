#pragma once
// The two streaming pipelines. Save: files -> tar -> zstd (worker threads) -> queue ->
// storage writer thread (sha256 on the way). Restore: storage reader thread (sha256 on
// the way) -> queue -> zstd thread -> queue -> tar extraction. Stages overlap; queues are
// bounded, so memory stays flat whatever the cache size; no temp archive on disk.
#include "archive/path_rules.hpp"
#include "archive/safe_extractor.hpp"
#include "archive/tar_writer.hpp"
#include "archive/zstd_stream.hpp"
#include "storage/backend.hpp"

#include <string>
#include <vector>

namespace cachekit::engine {

struct SaveResult {
  uint64_t archive_bytes = 0;
  std::string sha256;
  archive::TarStats tar;
  double seconds = 0;
};

// Streams the entries into `writer` and closes it (does not commit).
SaveResult run_save_pipeline(const archive::Plan &plan, storage::EntryWriter &writer,
                             const archive::CompressionSettings &compression);

struct RestoreResult {
  uint64_t archive_bytes = 0;
  archive::ExtractStats extracted;
  double seconds = 0;
};

// Streams `source` onto disk under `rules`. Verifies the archive's size and sha256 when
// known (empty sha256 / zero size = unknown) and throws IntegrityError on a mismatch, even
// after the files were written: the caller must then report a miss, never a hit.
RestoreResult run_restore_pipeline(ByteSource &source, const std::string &expected_sha256, uint64_t expected_size,
                                   const archive::PathRules &rules);

} // namespace cachekit::engine
