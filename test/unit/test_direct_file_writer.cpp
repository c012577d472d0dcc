#include "temp_dir.hpp"
#include "util/direct_file_writer.hpp"

#include <catch2/catch.hpp>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <unistd.h>
#include <vector>

using namespace cachekit;

namespace {

std::vector<std::byte> pattern(size_t size) {
  std::vector<std::byte> out(size);
  uint32_t x = 12345;
  for (auto &b : out) {
    x = x * 1103515245 + 12345;
    b = static_cast<std::byte>(x >> 24);
  }
  return out;
}

bool same_file(const fs::path &path, const std::vector<std::byte> &expected) {
  const std::string got = read_file(path);
  return got.size() == expected.size() && std::memcmp(got.data(), expected.data(), got.size()) == 0;
}

// Whether the file system under `dir` takes O_DIRECT at all.
bool accepts_direct(const fs::path &dir) {
  const auto probe = dir / "probe";
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_DIRECT, 0644);
  if (fd < 0) return false;
  ::close(fd);
  ::unlink(probe.c_str());
  return true;
}

void write_in_pieces(const fs::path &dir, size_t size) {
  const auto data = pattern(size);
  const auto path = dir / "archive";
  DirectFileWriter writer(path);
  const bool direct_expected = accepts_direct(dir);
  std::span<const std::byte> rest(data);
  size_t piece = 1000;
  while (!rest.empty()) { // pieces of odd sizes, so the stage fills at unaligned points
    const size_t n = std::min(piece, rest.size());
    writer.write(rest.first(n));
    rest = rest.subspan(n);
    piece = piece * 3 + 7;
  }
  if (direct_expected && size >= 4096) CHECK(writer.direct());
  CHECK(writer.size() == size);
  writer.finish();
  CHECK(fs::file_size(path) == size);
  CHECK(same_file(path, data));
}

} // namespace

TEST_CASE("direct file writer: every size comes back byte for byte") {
  test::TempDir tmp;
  for (size_t size : {size_t{0}, size_t{1}, size_t{4095}, size_t{4096}, size_t{4} << 20, (size_t{9} << 20) + 12345}) {
    CAPTURE(size);
    const auto dir = tmp.path / std::to_string(size);
    fs::create_directory(dir);
    write_in_pieces(dir, size);
  }
}

TEST_CASE("direct file writer: works on tmpfs as well (buffered where O_DIRECT is refused)") {
  std::string tmpl = "/dev/shm/cachekit-unit-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) {
    WARN("no /dev/shm here; skipped");
    return;
  }
  const fs::path dir(tmpl);
  write_in_pieces(dir, (size_t{5} << 20) + 17);
  fs::remove_all(dir);
}

TEST_CASE("direct file writer: an existing file is not overwritten") {
  test::TempDir tmp;
  const auto path = tmp.path / "taken";
  write_file_atomic(path, "keep me");
  CHECK_THROWS(DirectFileWriter(path));
  CHECK(read_file(path) == "keep me");
}

TEST_CASE("direct file writer: flushes as it goes, so finish() has little left to sync") {
  test::TempDir tmp;
  const auto data = pattern((size_t{40} << 20) + 333);
  DirectFileWriter writer(tmp.path / "archive");
  CHECK(writer.synced() == 0);
  writer.write(data);
  // Everything but the last stage is written by now; at least 32 of those 36 MiB are synced.
  CHECK(writer.synced() >= (uint64_t{32} << 20));
  CHECK(writer.synced() < data.size());
  writer.finish();
  CHECK(writer.synced() == data.size());
  CHECK(same_file(tmp.path / "archive", data));
}
