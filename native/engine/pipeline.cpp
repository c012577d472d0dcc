#include "engine/pipeline.hpp"

#include "archive/zstd_framing.hpp"
#include "archive/zstd_parallel.hpp"
#include "util/byte_queue.hpp"
#include "util/error.hpp"
#include "util/progress.hpp"
#include "util/sha256.hpp"
#include "util/strings.hpp"

#include <chrono>
#include <fmt/format.h>
#include <thread>

namespace cachekit::engine {
namespace {

constexpr size_t kChunkSize = 1 << 20;
// Save hands compressed bytes to the upload thread in 2 MiB chunks, the smallest size that
// gets huge pages (large_allocation.hpp): the first touch of a pooled chunk then costs one
// fault instead of 512 (1 MiB chunks took 2.7k of a cold cargo save's 6.2k page faults).
constexpr size_t kSaveChunkSize = size_t{2} << 20;
constexpr size_t kSaveQueueChunks = 8; // 16 MiB in flight
// Restore: 4 MiB per queue keeps every stage busy (stages hand over 1 MiB chunks); more only
// added memory to first-touch (measured: 2-4% more CPU at 16).
constexpr size_t kRestoreQueueChunks = 4;
// Frame buffers kept for reuse (8 MiB each): the one being decoded, the ones the extractor
// and the background writer still read, and slack; more are allocated when needed.
constexpr size_t kMaxKeptFrames = 8;

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

} // namespace

SaveResult run_save_pipeline(const archive::Plan &plan, storage::EntryWriter &writer,
                             const archive::CompressionSettings &compression) {
  const auto start = std::chrono::steady_clock::now();
  SaveResult result;
  ChunkPool upload_pool(kSaveChunkSize, kSaveQueueChunks + 2); // chunks go round: sink -> upload -> sink
  ChunkQueue queue(kSaveQueueChunks);
  Sha256 hash;
  Progress progress("upload", 0);
  std::exception_ptr upload_error;

  std::jthread upload([&] {
    try {
      while (auto chunk = queue.pop()) {
        hash.update(*chunk);
        writer.write(*chunk);
        result.archive_bytes += chunk->size();
        progress.add(chunk->size());
        upload_pool.give_back(std::move(*chunk));
      }
      writer.close();
    } catch (...) {
      upload_error = std::current_exception();
      queue.fail(upload_error);
    }
  });

  try {
    QueueSink to_upload(queue, kSaveChunkSize, &upload_pool);
    archive::ParallelZstdCompressSink zstd(to_upload, compression);
    result.tar = archive::write_tar(plan, zstd);
    zstd.close();
  } catch (...) {
    queue.fail(std::current_exception());
    upload.join();
    throw;
  }
  upload.join();
  if (upload_error) std::rethrow_exception(upload_error);
  result.sha256 = hash.hex_digest();
  result.seconds = seconds_since(start);
  return result;
}

RestoreResult run_restore_pipeline(ByteSource &source, const std::string &expected_sha256, uint64_t expected_size,
                                   const archive::PathRules &rules) {
  const auto start = std::chrono::steady_clock::now();
  RestoreResult result;
  // Buffers go round: download -> decompress -> back; decompress -> extract -> back. The
  // pools come first: queued slices give their chunks back when the queues go.
  ChunkPool compressed_pool(kChunkSize);
  ChunkPool tar_pool(kChunkSize);
  ChunkPool frame_pool(archive::zstd_framing::kFrameInput, kMaxKeptFrames);
  ChunkQueue compressed(kRestoreQueueChunks);
  SliceQueue tar_bytes(kRestoreQueueChunks);
  Progress progress("download", expected_size);

  auto fail_all = [&](const std::exception_ptr &e) {
    compressed.fail(e);
    tar_bytes.fail(e);
  };

  std::jthread download([&] {
    try {
      Sha256 hash;
      uint64_t total = 0;
      for (;;) {
        Chunk chunk = compressed_pool.take();
        size_t filled = 0;
        while (filled < chunk.size()) {
          const size_t n = source.read(std::span(chunk.data() + filled, chunk.size() - filled));
          if (n == 0) break;
          filled += n;
        }
        if (filled == 0) break;
        chunk.resize(filled);
        hash.update(chunk);
        total += filled;
        progress.add(filled);
        compressed.push(std::move(chunk));
      }
      result.archive_bytes = total;
      if (expected_size > 0 && total != expected_size)
        throw IntegrityError(fmt::format("archive size mismatch: expected {} bytes, got {}", expected_size, total));
      if (!expected_sha256.empty()) {
        const auto actual = hash.hex_digest();
        if (actual != expected_sha256)
          throw IntegrityError(
              fmt::format("archive checksum mismatch: expected sha256 {}, got {}", expected_sha256, actual));
      }
      compressed.close();
    } catch (...) {
      fail_all(std::current_exception());
    }
  });

  std::jthread decompress([&] {
    try {
      QueueSource in(compressed, &compressed_pool);
      archive::ZstdSliceDecoder zstd(static_cast<BlockSource &>(in), frame_pool, tar_pool);
      if (!expected_sha256.empty()) zstd.skip_frame_checksums();
      while (auto slice = zstd.next())
        tar_bytes.push(std::move(*slice));
      tar_bytes.close();
    } catch (...) {
      fail_all(std::current_exception());
    }
  });

  try {
    SliceSource in(tar_bytes);
    result.extracted = archive::extract_tar(static_cast<BlockSource &>(in), rules);
    // Drain what follows the end-of-archive marker, so the checksum covers every byte.
    while (!in.next_block().empty()) {
    }
  } catch (...) {
    fail_all(std::current_exception());
    download.join();
    decompress.join();
    throw;
  }
  download.join();
  decompress.join();
  result.seconds = seconds_since(start);
  return result;
}

} // namespace cachekit::engine
