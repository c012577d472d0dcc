#include "archive/zstd_stream.hpp"

#include "util/error.hpp"

#include <fmt/format.h>
#define ZSTD_STATIC_LINKING_ONLY // ZSTD_d_forceIgnoreChecksum (stable since 1.5.0, still in the experimental section)
#include <zstd.h>

namespace cachekit::archive {

void ZstdDecompressSource::DCtxDeleter::operator()(ZSTD_DCtx_s *ctx) const {
  ZSTD_freeDCtx(ctx);
}

ZstdDecompressSource::ZstdDecompressSource(BlockSource &upstream) : upstream_(upstream), ctx_(ZSTD_createDCtx()) {
  if (!ctx_) throw OperationError("zstd: cannot create decompression context");
}

ZstdDecompressSource::ZstdDecompressSource(ByteSource &upstream)
    : adapter_(std::make_unique<ByteSourceBlocks>(upstream)), upstream_(*adapter_), ctx_(ZSTD_createDCtx()) {
  if (!ctx_) throw OperationError("zstd: cannot create decompression context");
}

ZstdDecompressSource::~ZstdDecompressSource() = default;

void ZstdDecompressSource::skip_frame_checksums() {
  ZSTD_DCtx_setParameter(ctx_.get(), ZSTD_d_forceIgnoreChecksum, ZSTD_d_ignoreChecksum);
}

size_t ZstdDecompressSource::read(std::span<std::byte> out) {
  ZSTD_outBuffer output{out.data(), out.size(), 0};
  while (output.pos < output.size) {
    if (in_pos_ == in_.size() && !upstream_eof_) {
      in_ = upstream_.next_block();
      in_pos_ = 0;
      if (in_.empty()) upstream_eof_ = true;
    }
    if (in_pos_ == in_.size() && upstream_eof_) {
      // Flush whatever the decoder still holds, then decide whether the frame was whole.
      ZSTD_inBuffer empty{nullptr, 0, 0};
      const size_t before = output.pos;
      const size_t rc = ZSTD_decompressStream(ctx_.get(), &output, &empty);
      if (ZSTD_isError(rc)) throw IntegrityError(fmt::format("archive is corrupt (zstd: {})", ZSTD_getErrorName(rc)));
      if (output.pos > before) {
        last_hint_ = rc;
        continue;
      }
      if (last_hint_ != 0 && rc != 0) throw IntegrityError("archive is truncated (zstd frame incomplete)");
      break;
    }
    ZSTD_inBuffer input{in_.data(), in_.size(), in_pos_};
    const size_t rc = ZSTD_decompressStream(ctx_.get(), &output, &input);
    if (ZSTD_isError(rc)) throw IntegrityError(fmt::format("archive is corrupt (zstd: {})", ZSTD_getErrorName(rc)));
    in_pos_ = input.pos;
    last_hint_ = rc;
  }
  return output.pos;
}

} // namespace cachekit::archive
