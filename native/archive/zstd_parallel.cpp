#include "archive/zstd_parallel.hpp"
#include "archive/zstd_framing.hpp"
#include "util/error.hpp"

#include <algorithm>
#include <cstring>
#include <fmt/format.h>
#include <zstd.h>

namespace cachekit::archive {
namespace {

struct CCtxDeleter {
  void operator()(ZSTD_CCtx *ctx) const { ZSTD_freeCCtx(ctx); }
};

// One context per worker thread, kept: its tables are megabytes, reused frame after frame.
ZSTD_CCtx &thread_context() {
  thread_local std::unique_ptr<ZSTD_CCtx, CCtxDeleter> ctx(ZSTD_createCCtx());
  if (!ctx) throw OperationError("zstd: cannot create a compression context");
  return *ctx;
}

constexpr size_t kFirstFrameInput = size_t{1} << 20;

void check(size_t rc, const char *what) {
  if (ZSTD_isError(rc)) throw OperationError(fmt::format("zstd {}: {}", what, ZSTD_getErrorName(rc)));
}

// pzstd header + one independent frame (content size and checksum included).
Chunk compress_piece(const Chunk &input, size_t size, Chunk output, int level) {
  ZSTD_CCtx &ctx = thread_context();
  check(ZSTD_CCtx_reset(&ctx, ZSTD_reset_session_and_parameters), "reset");
  check(ZSTD_CCtx_setParameter(&ctx, ZSTD_c_compressionLevel, level), "level");
  check(ZSTD_CCtx_setParameter(&ctx, ZSTD_c_checksumFlag, 1), "checksum");
  const size_t bound = ZSTD_compressBound(size);
  output.resize(zstd_framing::kHeaderSize + bound);
  const size_t n = ZSTD_compress2(&ctx, output.data() + zstd_framing::kHeaderSize, bound, input.data(), size);
  check(n, "compress");
  const auto header = zstd_framing::header_for(static_cast<uint32_t>(n));
  std::memcpy(output.data(), header.data(), header.size());
  output.resize(zstd_framing::kHeaderSize + n);
  return output;
}

} // namespace

ParallelZstdCompressSink::ParallelZstdCompressSink(ByteSink &downstream, CompressionSettings settings)
    : downstream_(downstream), settings_(settings), inputs_(zstd_framing::kFrameInput),
      outputs_(zstd_framing::kHeaderSize + ZSTD_compressBound(zstd_framing::kFrameInput)) {
  if (settings.threads > 0) pool_ = std::make_unique<TaskPool>(static_cast<size_t>(settings.threads));
  piece_ = inputs_.take();
  // The first frames are small (1, 2, 4 MiB, then 8): the workers start as soon as the first
  // megabyte is read instead of idling until 8 and 16 MiB of a cold tree are in.
  piece_limit_ = std::min(kFirstFrameInput, piece_.size());
}

ParallelZstdCompressSink::~ParallelZstdCompressSink() {
  // On failure: let running jobs finish before their buffers go away.
  for (auto &f : in_flight_)
    if (f.valid()) f.wait();
}

void ParallelZstdCompressSink::write(std::span<const std::byte> data) {
  while (!data.empty()) {
    const size_t n = std::min(data.size(), piece_limit_ - piece_size_);
    std::memcpy(piece_.data() + piece_size_, data.data(), n);
    piece_size_ += n;
    data = data.subspan(n);
    if (piece_size_ == piece_limit_) submit_piece();
  }
}

void ParallelZstdCompressSink::submit_piece() {
  auto job = [this, input = std::move(piece_), size = piece_size_, output = outputs_.take()]() mutable {
    Chunk framed = compress_piece(input, size, std::move(output), settings_.level);
    inputs_.give_back(std::move(input));
    return framed;
  };
  piece_size_ = 0;
  any_frame_ = true;
  if (pool_) {
    in_flight_.push_back(pool_->submit(std::move(job)));
    // Enough queued to keep every worker busy while the oldest is written out.
    while (in_flight_.size() > static_cast<size_t>(settings_.threads) + 1)
      emit_oldest();
  } else {
    std::promise<Chunk> done;
    done.set_value(job());
    in_flight_.push_back(done.get_future());
    emit_oldest();
  }
  piece_ = inputs_.take();
  piece_limit_ = std::min(piece_limit_ * 2, piece_.size());
}

void ParallelZstdCompressSink::emit_oldest() {
  Chunk framed = in_flight_.front().get();
  in_flight_.pop_front();
  downstream_.write(framed);
  outputs_.give_back(std::move(framed));
}

void ParallelZstdCompressSink::close() {
  if (piece_size_ > 0 || !any_frame_) submit_piece(); // an empty archive is still one (empty) frame
  while (!in_flight_.empty())
    emit_oldest();
  downstream_.close();
}

} // namespace cachekit::archive
