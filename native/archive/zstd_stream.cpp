#include "archive/zstd_stream.hpp"

#include "util/error.hpp"

#include <algorithm>
#include <fmt/format.h>
// ZSTD_d_forceIgnoreChecksum, ZSTD_d_stableOutBuffer, ZSTD_getFrameHeader: stable for years,
// still in the experimental section.
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>

namespace cachekit::archive {
namespace {

// Input handed to one in-place decoding call, and the output after which a slice is handed
// on: small enough that the extractor starts on a frame long before it is decoded.
constexpr size_t kInPlaceInputStep = size_t{64} << 10;
constexpr size_t kInPlaceSliceTarget = size_t{1} << 20;

size_t check(size_t rc) {
  if (ZSTD_isError(rc)) throw IntegrityError(fmt::format("archive is corrupt (zstd: {})", ZSTD_getErrorName(rc)));
  return rc;
}

[[noreturn]] void truncated() {
  throw IntegrityError("archive is truncated (zstd frame incomplete)");
}

} // namespace

void ZstdSliceDecoder::DCtxDeleter::operator()(ZSTD_DCtx_s *ctx) const {
  ZSTD_freeDCtx(ctx);
}

ZstdSliceDecoder::ZstdSliceDecoder(BlockSource &upstream, ChunkPool &frames, ChunkPool &chunks)
    : upstream_(upstream), frames_(frames), chunks_(chunks), ctx_(ZSTD_createDCtx()) {
  if (!ctx_) throw OperationError("zstd: cannot create decompression context");
}

ZstdSliceDecoder::~ZstdSliceDecoder() = default;

void ZstdSliceDecoder::skip_frame_checksums() {
  ZSTD_DCtx_setParameter(ctx_.get(), ZSTD_d_forceIgnoreChecksum, ZSTD_d_ignoreChecksum);
}

bool ZstdSliceDecoder::have_input() {
  while (in_pos_ == in_.size() && !upstream_eof_) {
    in_ = upstream_.next_block();
    in_pos_ = 0;
    if (in_.empty()) upstream_eof_ = true;
  }
  return in_pos_ < in_.size();
}

std::optional<Slice> ZstdSliceDecoder::next() {
  for (;;) {
    if (at_frame_start_) {
      if (!have_input()) {
        if (!any_frame_) truncated(); // not even one frame: no archive at all
        return std::nullopt;
      }
      begin_frame();
      continue;
    }
    auto slice = frame_ ? decode_into_frame() : decode_through_window();
    if (slice) return slice;
  }
}

void ZstdSliceDecoder::begin_frame() {
  const auto rest = in_.subspan(in_pos_);
  ZSTD_frameHeader header{};
  const bool header_here = ZSTD_getFrameHeader(&header, rest.data(), rest.size()) == 0;
  // pzstd's size announcements (ZSTD_getFrameHeader leaves headerSize 0 for these).
  if (header_here && header.frameType == ZSTD_skippableFrame &&
      ZSTD_SKIPPABLEHEADERSIZE + header.frameContentSize <= rest.size()) {
    in_pos_ += ZSTD_SKIPPABLEHEADERSIZE + header.frameContentSize;
    return;
  }
  at_frame_start_ = false;
  any_frame_ = true;
  // Parameters can change only between frames, after a session reset.
  check(ZSTD_DCtx_reset(ctx_.get(), ZSTD_reset_session_only));
  const bool in_place = header_here && header.frameType == ZSTD_frame &&
                        header.frameContentSize != ZSTD_CONTENTSIZE_UNKNOWN && header.frameContentSize > 0 &&
                        header.frameContentSize <= frames_.chunk_size();
  check(ZSTD_DCtx_setParameter(ctx_.get(), ZSTD_d_stableOutBuffer, in_place ? 1 : 0));
  if (!in_place) return;
  Chunk chunk = frames_.take();
  chunk.resize(static_cast<size_t>(header.frameContentSize));
  frame_ = std::make_shared<ChunkLease>(std::move(chunk), &frames_);
  frame_out_ = {frame_->writable_data(), frame_->chunk().size(), 0};
  handed_ = 0;
}

std::optional<Slice> ZstdSliceDecoder::decode_into_frame() {
  size_t rc = 1;
  while (rc != 0 && frame_out_.pos - handed_ < kInPlaceSliceTarget) {
    if (!have_input()) truncated();
    ZSTD_inBuffer input{in_.data() + in_pos_, std::min(in_.size() - in_pos_, kInPlaceInputStep), 0};
    ZSTD_outBuffer output{frame_out_.dst, frame_out_.size, frame_out_.pos};
    rc = check(ZSTD_decompressStream(ctx_.get(), &output, &input));
    frame_out_.pos = output.pos;
    in_pos_ += input.pos;
  }
  Slice slice{frame_, handed_, frame_out_.pos - handed_};
  handed_ = frame_out_.pos;
  if (rc == 0) frame_complete();
  if (slice.size == 0) return std::nullopt;
  return slice;
}

std::optional<Slice> ZstdSliceDecoder::decode_through_window() {
  Chunk chunk = chunks_.take();
  ZSTD_outBuffer output{chunk.data(), chunk.size(), 0};
  while (output.pos < output.size) {
    const bool more = have_input();
    ZSTD_inBuffer input{more ? in_.data() + in_pos_ : nullptr, more ? in_.size() - in_pos_ : 0, 0};
    const size_t before = output.pos;
    const size_t rc = check(ZSTD_decompressStream(ctx_.get(), &output, &input));
    in_pos_ += input.pos;
    if (rc == 0) { // frame complete and flushed: the next one may go in place
      frame_complete();
      break;
    }
    if (!more && output.pos == before) truncated(); // input ended and zstd holds nothing more
  }
  if (output.pos == 0) {
    chunks_.give_back(std::move(chunk));
    return std::nullopt;
  }
  chunk.resize(output.pos);
  return Slice{std::make_shared<ChunkLease>(std::move(chunk), &chunks_), 0, output.pos};
}

void ZstdSliceDecoder::frame_complete() {
  at_frame_start_ = true;
  frame_.reset(); // the slices handed on keep it until the extractor is done with them
  frame_out_ = {};
}

} // namespace cachekit::archive
