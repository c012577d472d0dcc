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
#include <fcntl.h>
#include <fmt/format.h>
#include <fstream>
#include <linux/magic.h>
#include <random>
#include <sys/stat.h>
#include <sys/statfs.h>
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
  const size_t size = archive::zstd_framing::kFrameInput * 2 + 12345;
  text.reserve(size);
  while (text.size() < size)
    text += static_cast<char>('a' + rng() % 4);
  const auto compressed = compress_in_pieces(text, 2);
  CHECK(compressed.size() < text.size());
  // The same bytes whatever the number of workers: frames are written strictly in order.
  CHECK(compress_in_pieces(text, 0) == compressed);

  // Every frame is announced by a pzstd header giving its exact compressed size. The first
  // frames ramp up (1, 2, 4 MiB) so the workers start early; then full 8 MiB frames.
  size_t pos = 0;
  std::vector<unsigned long long> content_sizes;
  while (pos < compressed.size()) {
    const auto announced = archive::zstd_framing::parse_header(std::span(compressed).subspan(pos));
    REQUIRE(announced);
    pos += archive::zstd_framing::kHeaderSize;
    content_sizes.push_back(ZSTD_getFrameContentSize(compressed.data() + pos, *announced));
    pos += *announced;
  }
  CHECK(pos == compressed.size());
  const unsigned long long mib = 1 << 20;
  const std::vector<unsigned long long> expected{1 * mib, 2 * mib, 4 * mib, 8 * mib, size - 15 * mib};
  CHECK(content_sizes == expected);

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

namespace {
// The archive order, worked out one directory at a time: depth-first, children by name.
void serial_walk(const fs::path &p, std::vector<std::string> &out) {
  out.push_back(p.string());
  if (!fs::is_directory(fs::symlink_status(p))) return;
  std::vector<std::string> names;
  for (const auto &e : fs::directory_iterator(p))
    names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  for (const auto &n : names)
    serial_walk(p / n, out);
}
} // namespace

TEST_CASE("plan: listed on several threads, the order is depth-first by name") {
  test::TempDir ws;
  std::mt19937 rng(7);
  for (int d = 0; d < 60; ++d) {
    fs::path dir = ws.path / "root";
    for (int depth = 0; depth < 1 + static_cast<int>(rng() % 4); ++depth)
      dir /= fmt::format("d{}", rng() % 5);
    write_file(dir / fmt::format("f{}", rng() % 7), "x");
    fs::create_directories(ws.path / "root" / fmt::format("empty{}", d % 3));
  }
  fs::create_symlink("d0", ws.path / "root/link-to-dir"); // a link is not followed
  write_file(ws.path / "single", "y");

  const auto plan = archive::plan_entries(ws.path, {ws.path / "root", ws.path / "single"});
  std::vector<std::string> want;
  serial_walk(ws.path / "root", want);
  want.push_back((ws.path / "single").string());
  std::vector<std::string> got;
  for (const auto &e : plan.entries)
    got.push_back(e.absolute);
  CHECK(got == want);
  CHECK(plan.member_name(plan.entries.back()) == "single");
  CHECK(plan.entries.front().root == 0);
  CHECK(plan.entries.back().root == 1);
  // Sized once from the listing's count (no doubling, no copy to shrink): an exact count.
  CHECK(plan.entries.capacity() == plan.entries.size());
}

TEST_CASE("plan: a path that vanished is bad input, named in the error") {
  test::TempDir ws;
  write_file(ws.path / "root/a", "x");
  CHECK_THROWS_WITH(archive::plan_entries(ws.path, {ws.path / "root", ws.path / "gone"}),
                    Catch::Contains("gone") && Catch::Contains("cannot read"));
}

namespace {
bool on_tmpfs(const fs::path &p) {
  struct statfs st {};
  return ::statfs(p.c_str(), &st) == 0 && st.f_type == TMPFS_MAGIC;
}
// Writes the file back and drops it from the page cache, as after a reboot.
void evict_from_page_cache(const fs::path &p) {
  const int fd = ::open(p.c_str(), O_RDONLY);
  REQUIRE(fd >= 0);
  CHECK(::fdatasync(fd) == 0);
  CHECK(::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) == 0);
  ::close(fd);
}
} // namespace

TEST_CASE("tar writer reads ahead only once a file is not in the page cache") {
  auto make_tree = [](const fs::path &root) {
    for (int i = 0; i < 40; ++i)
      write_file(root / "data" / fmt::format("f{:02}", i),
                 std::string(size_t{20000} + i, static_cast<char>('a' + i % 26)));
  };
  auto archive_of = [](const fs::path &ws, bool &read_ahead) {
    MemorySink tar;
    const auto stats = archive::write_tar(archive::plan_entries(ws, {ws / "data"}), tar);
    CHECK(stats.files == 40);
    read_ahead = stats.read_ahead;
    return tar.data;
  };

  test::TempDir ws;
  make_tree(ws.path);
  bool read_ahead = true;
  const auto warm = archive_of(ws.path, read_ahead);
  CHECK_FALSE(read_ahead); // just written: all cached

  if (on_tmpfs(ws.path)) {
    WARN("/tmp is a tmpfs: the cold half of this test needs a disk");
  } else {
    for (int i = 10; i < 40; ++i)
      evict_from_page_cache(ws.path / "data" / fmt::format("f{:02}", i));
    const auto cold = archive_of(ws.path, read_ahead);
    CHECK(read_ahead);
    CHECK(cold == warm);
  }

  // tmpfs cannot say what is cached (RWF_NOWAIT is not supported there), but all is memory.
  if (on_tmpfs("/dev/shm")) {
    const fs::path shm = fs::path("/dev/shm") / ws.path.filename();
    fs::create_directory(shm);
    make_tree(shm);
    const auto in_memory = archive_of(shm, read_ahead);
    fs::remove_all(shm);
    CHECK_FALSE(read_ahead);
    CHECK(in_memory.size() > size_t{40} * 20000);
  }
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
