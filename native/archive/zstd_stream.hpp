#pragma once
// Streaming zstd decompression, and the settings compression uses (zstd_parallel.hpp). The
// window stays at the level's default (no long mode) because actions/cache restores with
// plain `unzstd`, which refuses windows above 2^27.
#include "util/byte_queue.hpp"
#include "util/byte_stream.hpp"

#include <memory>
#include <optional>

struct ZSTD_DCtx_s;

namespace cachekit::archive {

struct CompressionSettings {
  int level = 3;
  int threads = 0; // compression workers; 0 = compress on the calling thread
};

// Decompresses a zstd stream, read block by block in place, into slices of pooled chunks.
//
// A frame that announces its size and fits a `frames` chunk (cachekit's and pzstd's frames)
// is decoded straight into one such chunk, which is handed on slice by slice as it fills:
// zstd then keeps no window of its own and copies nothing out of it, which was 7% of the
// decoding time, the critical path of a restore. Any other frame (`zstd -T0` writes one of
// unknown size) goes through zstd's window into `chunks`, one chunk per slice.
class ZstdSliceDecoder {
public:
  ZstdSliceDecoder(BlockSource &upstream, ChunkPool &frames, ChunkPool &chunks);
  ~ZstdSliceDecoder();
  ZstdSliceDecoder(const ZstdSliceDecoder &) = delete;
  ZstdSliceDecoder &operator=(const ZstdSliceDecoder &) = delete;
  // Skips zstd's own per-frame checksum: for archives whose sha256 is checked anyway, it
  // only costs CPU on the restore's critical path.
  void skip_frame_checksums();
  // The next decompressed bytes (never empty); nullopt at the end of the stream. Throws
  // IntegrityError when the stream is corrupt or ends inside a frame.
  std::optional<Slice> next();

private:
  struct DCtxDeleter {
    void operator()(ZSTD_DCtx_s *ctx) const;
  };
  bool have_input(); // false at the end of the upstream
  void begin_frame();
  std::optional<Slice> decode_into_frame();
  std::optional<Slice> decode_through_window();
  void frame_complete();

  BlockSource &upstream_;
  ChunkPool &frames_;
  ChunkPool &chunks_;
  std::unique_ptr<ZSTD_DCtx_s, DCtxDeleter> ctx_;
  std::span<const std::byte> in_;
  size_t in_pos_ = 0;
  bool upstream_eof_ = false;
  bool at_frame_start_ = true;
  bool any_frame_ = false;
  // The frame being decoded in place: its chunk, zstd's view of it (unchanged between calls,
  // as ZSTD_d_stableOutBuffer requires), and how much of it was handed on.
  std::shared_ptr<ChunkLease> frame_;
  struct OutView {
    void *dst = nullptr;
    size_t size = 0;
    size_t pos = 0;
  } frame_out_;
  size_t handed_ = 0;
};

} // namespace cachekit::archive
