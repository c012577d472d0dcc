#include "archive/zstd_stream.hpp"

#include "util/error.hpp"

#include <fmt/format.h>
#include <zstd.h>

namespace cachekit::archive {

void ZstdCompressSink::CCtxDeleter::operator()(ZSTD_CCtx_s *ctx) const {
  ZSTD_freeCCtx(ctx);
}
void ZstdDecompressSource::DCtxDeleter::operator()(ZSTD_DCtx_s *ctx) const {
  ZSTD_freeDCtx(ctx);
}

namespace {
void check(size_t rc, const char *what) {
  if (ZSTD_isError(rc)) throw OperationError(fmt::format("zstd {}: {}", what, ZSTD_getErrorName(rc)));
}
} // namespace

ZstdCompressSink::ZstdCompressSink(ByteSink &downstream, CompressionSettings settings)
    : downstream_(downstream), ctx_(ZSTD_createCCtx()), out_(ZSTD_CStreamOutSize()) {
  if (!ctx_) throw OperationError("zstd: cannot create compression context");
  check(ZSTD_CCtx_setParameter(ctx_.get(), ZSTD_c_compressionLevel, settings.level), "level");
  check(ZSTD_CCtx_setParameter(ctx_.get(), ZSTD_c_checksumFlag, 1), "checksum");
  if (settings.threads > 0) {
    // Silently single-threaded if libzstd was built without threads.
    ZSTD_CCtx_setParameter(ctx_.get(), ZSTD_c_nbWorkers, settings.threads);
  }
}

ZstdCompressSink::~ZstdCompressSink() = default;

void ZstdCompressSink::drive(std::span<const std::byte> data, int directive) {
  ZSTD_inBuffer in{data.data(), data.size(), 0};
  for (;;) {
    ZSTD_outBuffer out{out_.data(), out_.size(), 0};
    const size_t remaining = ZSTD_compressStream2(ctx_.get(), &out, &in, static_cast<ZSTD_EndDirective>(directive));
    check(remaining, "compress");
    if (out.pos > 0) downstream_.write(std::span(out_.data(), out.pos));
    const bool done = directive == ZSTD_e_continue ? in.pos == in.size : remaining == 0;
    if (done) break;
  }
}

void ZstdCompressSink::write(std::span<const std::byte> data) {
  drive(data, ZSTD_e_continue);
}

void ZstdCompressSink::close() {
  drive({}, ZSTD_e_end);
  downstream_.close();
}

ZstdDecompressSource::ZstdDecompressSource(BlockSource &upstream) : upstream_(upstream), ctx_(ZSTD_createDCtx()) {
  if (!ctx_) throw OperationError("zstd: cannot create decompression context");
}

ZstdDecompressSource::ZstdDecompressSource(ByteSource &upstream)
    : adapter_(std::make_unique<ByteSourceBlocks>(upstream)), upstream_(*adapter_), ctx_(ZSTD_createDCtx()) {
  if (!ctx_) throw OperationError("zstd: cannot create decompression context");
}

ZstdDecompressSource::~ZstdDecompressSource() = default;

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
