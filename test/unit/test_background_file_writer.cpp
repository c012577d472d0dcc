// The background writer finishes large files on its own thread during a restore: what it is
// handed must outlive the call, files must end up as the archive says, and its failures must
// reach the extracting thread.
#include "archive/background_file_writer.hpp"
#include "archive/disk_writer.hpp"
#include "temp_dir.hpp"
#include "util/error.hpp"

#include <catch2/catch.hpp>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

using namespace cachekit;

namespace {

std::vector<std::byte> bytes_of(size_t size, char seed) {
  std::vector<std::byte> v(size);
  for (size_t i = 0; i < size; ++i)
    v[i] = static_cast<std::byte>(seed + static_cast<char>(i % 251));
  return v;
}

std::vector<std::byte> read_all(const fs::path &p) {
  std::ifstream in(p, std::ios::binary);
  std::vector<char> c((std::istreambuf_iterator<char>(in)), {});
  std::vector<std::byte> out(c.size());
  std::memcpy(out.data(), c.data(), c.size());
  return out;
}
} // namespace

TEST_CASE("background writer: copied pieces, kept chunks, a trailing hole, mode and times") {
  test::TempDir dir;
  const auto dest = (dir.path / "big.bin").string();
  archive::EntryMeta meta;
  meta.mode = 0640;
  meta.mtime = {1'600'000'000, 123'000'000};

  const auto first = bytes_of(300'000, 'a');
  const auto second = bytes_of(2 << 20, 'k'); // large enough to be unmapped when freed
  {
    archive::DiskWriter disk;
    archive::BackgroundFileWriter background;
    background.begin(disk.open_file(dest, meta));

    // Without a chunk to keep, the bytes must be copied before write() returns.
    auto scratch = first;
    background.write(scratch.data(), scratch.size(), 0, nullptr);
    std::memset(scratch.data(), 0, scratch.size());

    // With one, the writer keeps it alive after we let go of it.
    auto chunk = std::make_shared<std::vector<std::byte>>(second);
    const std::byte *data = chunk->data();
    const size_t size = chunk->size();
    background.write(data, size, 300'000, std::move(chunk));

    background.end(300'000 + (2 << 20) + 5000); // ends in a hole
    background.finish();
  }

  const auto got = read_all(dest);
  REQUIRE(got.size() == 300'000 + (2 << 20) + 5000);
  CHECK(std::equal(first.begin(), first.end(), got.begin()));
  CHECK(std::equal(second.begin(), second.end(), got.begin() + 300'000));
  CHECK(std::all_of(got.end() - 5000, got.end(), [](std::byte b) { return b == std::byte{0}; }));
  struct stat st {};
  REQUIRE(::stat(dest.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0640);
  CHECK(st.st_mtim.tv_sec == 1'600'000'000);
  CHECK(st.st_mtim.tv_nsec == 123'000'000);
}

TEST_CASE("background writer: a failure on its thread reaches the caller, naming the file") {
  test::TempDir dir;
  const auto path = dir.path / "read-only-descriptor";
  std::ofstream(path) << "x";
  // A descriptor that cannot be written: pwrite fails on the writer's thread.
  archive::FileOutput file(UniqueFd(::open(path.c_str(), O_RDONLY | O_CLOEXEC)), path.string(), archive::EntryMeta{},
                           archive::Identity::of_this_process());
  const auto data = bytes_of(1 << 20, 'z');
  archive::BackgroundFileWriter background;
  CHECK_THROWS_WITH(
      [&] {
        background.begin(std::move(file));
        for (int i = 0; i < 8; ++i)
          background.write(data.data(), data.size(), int64_t{i} << 20, nullptr);
        background.end(8 << 20);
        background.finish();
      }(),
      Catch::Contains("cannot write " + path.string()));
}

TEST_CASE("background writer: dropped without finish() (extraction failed elsewhere), it stops") {
  test::TempDir dir;
  archive::DiskWriter disk;
  const auto data = bytes_of(1 << 20, 'q');
  {
    archive::BackgroundFileWriter background(2);
    background.begin(disk.open_file((dir.path / "half").string(), archive::EntryMeta{}));
    background.write(data.data(), data.size(), 0, nullptr);
  } // must return: the thread is told to stop, not left waiting for more
  SUCCEED("the destructor returned");
}
