#pragma once
// pzstd's framing: before every zstd frame, a 12-byte skippable frame that holds the
// compressed size of the frame after it. Plain `zstd -d` (and so actions/cache) skips
// these; `pzstd -d` and cachekit use them to decompress several frames at once.
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace cachekit::archive::zstd_framing {

inline constexpr uint32_t kSkippableMagic = 0x184D2A50;
inline constexpr size_t kHeaderSize = 12;
// Uncompressed bytes per frame: pzstd's size for the default levels (4x a 2 MiB window).
inline constexpr size_t kFrameInput = size_t{8} << 20;

inline std::array<std::byte, kHeaderSize> header_for(uint32_t compressed_frame_size) {
  std::array<std::byte, kHeaderSize> h{};
  const uint32_t words[3] = {kSkippableMagic, 4, compressed_frame_size};
  for (size_t w = 0; w < 3; ++w)
    for (size_t b = 0; b < 4; ++b)
      h[w * 4 + b] = static_cast<std::byte>((words[w] >> (8 * b)) & 0xff);
  return h;
}

// The announced frame size when `bytes` starts with a pzstd header.
inline std::optional<uint32_t> parse_header(std::span<const std::byte> bytes) {
  if (bytes.size() < kHeaderSize) return std::nullopt;
  auto word = [&](size_t at) {
    uint32_t v = 0;
    for (size_t b = 0; b < 4; ++b)
      v |= static_cast<uint32_t>(bytes[at + b]) << (8 * b);
    return v;
  };
  if (word(0) != kSkippableMagic || word(4) != 4) return std::nullopt;
  return word(8);
}

} // namespace cachekit::archive::zstd_framing
