#include "archive/path_rules.hpp"
#include "archive/safe_extractor.hpp"
#include "archive/tar_writer.hpp"
#include "archive/zstd_framing.hpp"
#include "archive/zstd_parallel.hpp"
#include "archive/zstd_stream.hpp"
#include "temp_dir.hpp"
#include "util/error.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstring>
#include <fstream>
#include <random>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

using namespace cachekit;

namespace {
struct MemorySink : ByteSink {
  std::vector<std::byte> data;
  bool closed = false;
  void write(std::span<const std::byte> d) override { data.insert(data.end(), d.begin(), d.end()); }
  void close() override { closed = true; }
};
struct MemorySource : ByteSource {
  const std::vector<std::byte> &data;
  size_t pos = 0;
  size_t max_read;
  MemorySource(const std::vector<std::byte> &d, size_t max = 7777) : data(d), max_read(max) {}
  size_t read(std::span<std::byte> out) override {
    const size_t n = std::min({out.size(), data.size() - pos, max_read});
    std::memcpy(out.data(), data.data() + pos, n);
    pos += n;
    return n;
  }
};
void write_file(const fs::path &p, const std::string &content) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << content;
}
std::string read(const fs::path &p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}
} // namespace

namespace {
std::vector<std::byte> compress_in_pieces(const std::string &text, int threads) {
  MemorySink compressed;
  archive::ParallelZstdCompressSink z(compressed, {3, threads});
  for (size_t i = 0; i < text.size(); i += 100000)
    z.write(std::as_bytes(std::span(text.data() + i, std::min<size_t>(100000, text.size() - i))));
  z.close();
  CHECK(compressed.closed);
  return compressed.data;
}
// The compressed stream handed over in blocks of `block` bytes, like the download queue does.
struct Blocks : BlockSource {
  const std::vector<std::byte> &data;
  size_t block;
  size_t pos = 0;
  Blocks(const std::vector<std::byte> &d, size_t b) : data(d), block(b) {}
  std::span<const std::byte> next_block() override {
    const size_t n = std::min(block, data.size() - pos);
    auto out = std::span<const std::byte>(data).subspan(pos, n);
    pos += n;
    return out;
  }
};

// Megabyte strings: on a mismatch, say where instead of letting Catch print both.
bool same(const std::string &got, const std::string &want) {
  if (got == want) return true;
  const auto diff = std::mismatch(got.begin(), got.end(), want.begin(), want.end());
  UNSCOPED_INFO("sizes " << got.size() << " vs " << want.size() << ", first difference at byte "
                         << (diff.first - got.begin()));
  return false;
}

struct Decoded {
  std::string text;
  int in_place_slices = 0; // slices of a frame buffer
  int window_slices = 0;   // slices of a window chunk
};

Decoded decode_all(const std::vector<std::byte> &compressed, size_t block = 100000) {
  Blocks in(compressed, block);
  ChunkPool frames(archive::zstd_framing::kFrameInput);
  ChunkPool chunks(size_t{1} << 20);
  archive::ZstdSliceDecoder decoder(in, frames, chunks);
  Decoded out;
  std::vector<Slice> kept; // held to the end, as the background writer may: nothing may move under them
  while (auto slice = decoder.next()) {
    REQUIRE(slice->size > 0);
    REQUIRE(slice->offset + slice->size <= slice->chunk->chunk().size());
    const auto bytes = slice->bytes();
    out.text.append(reinterpret_cast<const char *>(bytes.data()), bytes.size());
    (slice->chunk->chunk().capacity() >= archive::zstd_framing::kFrameInput ? out.in_place_slices
                                                                            : out.window_slices)++;
    kept.push_back(std::move(*slice));
  }
  std::string again;
  for (const auto &s : kept)
    again.append(reinterpret_cast<const char *>(s.bytes().data()), s.size);
  CHECK(same(again, out.text));
  return out;
}

// One plain zstd frame, with or without its content size in the header.
std::vector<std::byte> zstd_frame(const std::string &text, bool with_size) {
  std::unique_ptr<ZSTD_CCtx, decltype(&ZSTD_freeCCtx)> ctx(ZSTD_createCCtx(), ZSTD_freeCCtx);
  ZSTD_CCtx_setParameter(ctx.get(), ZSTD_c_contentSizeFlag, with_size ? 1 : 0);
  std::vector<std::byte> out(ZSTD_compressBound(text.size()));
  const size_t n = ZSTD_compress2(ctx.get(), out.data(), out.size(), text.data(), text.size());
  REQUIRE_FALSE(ZSTD_isError(n));
  out.resize(n);
  return out;
}
} // namespace

TEST_CASE("zstd: independent pzstd-framed pieces, multithreaded, round trip and detect damage") {
  std::mt19937 rng(42);
  std::string text;
  const size_t size = archive::zstd_framing::kFrameInput * 2 + 12345; // three frames
  text.reserve(size);
  while (text.size() < size)
    text += static_cast<char>('a' + rng() % 4);
  const auto compressed = compress_in_pieces(text, 2);
  CHECK(compressed.size() < text.size());
  // The same bytes whatever the number of workers: frames are written strictly in order.
  CHECK(compress_in_pieces(text, 0) == compressed);

  // Every frame is announced by a pzstd header giving its exact compressed size.
  size_t pos = 0;
  int frames = 0;
  while (pos < compressed.size()) {
    const auto announced = archive::zstd_framing::parse_header(std::span(compressed).subspan(pos));
    REQUIRE(announced);
    pos += archive::zstd_framing::kHeaderSize + *announced;
    ++frames;
  }
  CHECK(pos == compressed.size());
  CHECK(frames == 3);

  const auto decoded = decode_all(compressed, 100000);
  CHECK(same(decoded.text, text));
  CHECK(decoded.in_place_slices > 0);
  CHECK(decoded.window_slices == 0); // every frame announced its size and fit a frame buffer

  auto truncated = compressed;
  truncated.resize(truncated.size() - 10);
  CHECK_THROWS_AS(decode_all(truncated, 100000), IntegrityError);
}

TEST_CASE("zstd: an empty stream is still one valid frame") {
  const auto compressed = compress_in_pieces("", 2);
  CHECK(decode_all(compressed).text.empty());
  CHECK_THROWS_AS(decode_all({}), IntegrityError); // no frame at all is not an archive
}

TEST_CASE("zstd: in place and through the window, whatever the block boundaries") {
  std::mt19937 rng(7);
  std::string text;
  const size_t size = archive::zstd_framing::kFrameInput + 4321;
  while (text.size() < size)
    text += static_cast<char>('a' + rng() % 8);
  const auto ours = compress_in_pieces(text, 2);
  // Blocks of 5 bytes split every header, skippable frame and zstd block: those frames go
  // through the window; the bytes must come out the same.
  for (size_t block : {size_t{5}, size_t{4096}, size_t{1} << 20}) {
    INFO(block);
    const auto decoded = decode_all(ours, block);
    CHECK(same(decoded.text, text));
    if (block >= 4096) CHECK(decoded.in_place_slices > 0);
  }

  // A frame of unknown size (what `zstd -T0` writes from a pipe) follows ours.
  auto mixed = ours;
  const auto foreign = zstd_frame(text.substr(0, 3000000), /*with_size=*/false);
  mixed.insert(mixed.end(), foreign.begin(), foreign.end());
  const auto decoded = decode_all(mixed, 1 << 20);
  CHECK(same(decoded.text, text + text.substr(0, 3000000)));
  CHECK(decoded.window_slices > 0);

  // A frame larger than a frame buffer goes through the window too.
  const std::string big(archive::zstd_framing::kFrameInput + 1, 'z');
  const auto large = decode_all(zstd_frame(big, /*with_size=*/true), 1 << 20);
  CHECK(same(large.text, big));
  CHECK(large.in_place_slices == 0);
}

TEST_CASE("zstd: a damaged frame is an integrity error, in place or not") {
  std::string text(3000000, 'q');
  for (size_t i = 0; i < text.size(); i += 7)
    text[i] = static_cast<char>('a' + i % 13);
  for (bool with_size : {true, false}) {
    INFO(with_size);
    auto frame = zstd_frame(text, with_size);
    frame[frame.size() / 2] ^= std::byte{0x5a};
    frame[frame.size() / 2 + 1] ^= std::byte{0xa5};
    CHECK_THROWS_AS(decode_all(frame, 1 << 20), IntegrityError);
    auto cut = zstd_frame(text, with_size);
    cut.resize(cut.size() / 2);
    CHECK_THROWS_AS(decode_all(cut, 1 << 20), IntegrityError);
  }
}

TEST_CASE("tar writer and safe extractor round trip a tree with links and modes") {
  test::TempDir ws;
  write_file(ws.path / "data/a.txt", "alpha");
  write_file(ws.path / "data/sub/b.bin", std::string(300000, 'b'));
  fs::create_directory(ws.path / "data/empty");
  fs::create_symlink("a.txt", ws.path / "data/link");
  fs::create_hard_link(ws.path / "data/a.txt", ws.path / "data/hard");
  ::chmod((ws.path / "data/a.txt").c_str(), 0444);

  const auto entries = archive::plan_entries(ws.path, {ws.path / "data"});
  REQUIRE(entries.member_name(entries.entries.front()) == "data");
  MemorySink tar;
  const auto stats = archive::write_tar(entries, tar);
  CHECK(stats.files == 2);
  CHECK(stats.hardlinks == 1);
  CHECK(stats.symlinks == 1);

  test::TempDir out;
  archive::PathRules rules(out.path, {out.path / "data"});
  MemorySource src(tar.data);
  const auto x = archive::extract_tar(src, rules);
  CHECK(x.files == 2);
  CHECK(read(out.path / "data/a.txt") == "alpha");
  CHECK(read(out.path / "data/sub/b.bin").size() == 300000);
  CHECK(fs::is_directory(out.path / "data/empty"));
  CHECK(fs::read_symlink(out.path / "data/link") == "a.txt");
  CHECK(fs::hard_link_count(out.path / "data/a.txt") == 2);
  struct stat st {};
  ::stat((out.path / "data/a.txt").c_str(), &st);
  CHECK((st.st_mode & 07777) == 0444);
}

TEST_CASE("extraction refuses members outside the roots before writing them") {
  test::TempDir ws;
  write_file(ws.path / "data/a.txt", "alpha");
  const auto entries = archive::plan_entries(ws.path, {ws.path / "data"});
  MemorySink tar;
  archive::write_tar(entries, tar);
  test::TempDir out;
  archive::PathRules rules(out.path, {out.path / "elsewhere"});
  MemorySource src(tar.data);
  CHECK_THROWS_AS(archive::extract_tar(src, rules), UnsafeArchiveError);
  CHECK_FALSE(fs::exists(out.path / "data"));
}

TEST_CASE("garbage is not a tar stream") {
  std::vector<std::byte> junk(4096, std::byte{0x42});
  MemorySource src(junk);
  test::TempDir out;
  archive::PathRules rules(out.path, {out.path});
  CHECK_THROWS_AS(archive::extract_tar(src, rules), IntegrityError);
}

TEST_CASE("extraction replaces what is in the way, but never a directory with content") {
  test::TempDir ws;
  write_file(ws.path / "data/was_file/inner.txt", "inner");
  write_file(ws.path / "data/was_dir", "now a file");
  const auto entries = archive::plan_entries(ws.path, {ws.path / "data"});
  MemorySink tar;
  archive::write_tar(entries, tar);

  test::TempDir out;
  write_file(out.path / "data/was_file", "old file where the archive has a directory");
  fs::create_directories(out.path / "data/was_dir"); // empty directory where it has a file
  archive::PathRules rules(out.path, {out.path / "data"});
  MemorySource src(tar.data);
  archive::extract_tar(src, rules);
  CHECK(read(out.path / "data/was_file/inner.txt") == "inner");
  CHECK(read(out.path / "data/was_dir") == "now a file");

  test::TempDir busy;
  write_file(busy.path / "data/was_dir/keep.txt", "not ours to delete");
  archive::PathRules busy_rules(busy.path, {busy.path / "data"});
  MemorySource again(tar.data);
  CHECK_THROWS_WITH(archive::extract_tar(again, busy_rules), Catch::Contains("not empty"));
  CHECK(read(busy.path / "data/was_dir/keep.txt") == "not ours to delete");
}
