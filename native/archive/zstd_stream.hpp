#pragma once
// Streaming zstd decompression, and the settings compression uses (zstd_parallel.hpp). The
// window stays at the level's default (no long mode) because actions/cache restores with
// plain `unzstd`, which refuses windows above 2^27.
#include "util/byte_stream.hpp"

#include <memory>
#include <vector>

struct ZSTD_DCtx_s;

namespace cachekit::archive {

struct CompressionSettings {
  int level = 3;
  int threads = 0; // compression workers; 0 = compress on the calling thread
};

// Reads the compressed stream block by block in place (no copy into a buffer of ours);
// read() fills `out` as far as the stream allows.
class ZstdDecompressSource : public ByteSource {
public:
  explicit ZstdDecompressSource(BlockSource &upstream);
  explicit ZstdDecompressSource(ByteSource &upstream);
  ~ZstdDecompressSource() override;
  // Skips zstd's own per-frame checksum: for archives whose sha256 is checked anyway, it
  // only costs CPU on the restore's critical path.
  void skip_frame_checksums();
  size_t read(std::span<std::byte> out) override;

private:
  struct DCtxDeleter {
    void operator()(ZSTD_DCtx_s *ctx) const;
  };
  std::unique_ptr<ByteSourceBlocks> adapter_; // only when built from a ByteSource
  BlockSource &upstream_;
  std::unique_ptr<ZSTD_DCtx_s, DCtxDeleter> ctx_;
  std::span<const std::byte> in_;
  size_t in_pos_ = 0;
  bool upstream_eof_ = false;
  size_t last_hint_ = 1; // 0 once a frame is complete and flushed
};

} // namespace cachekit::archive
