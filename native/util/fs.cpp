#include "util/fs.hpp"

#include "util/error.hpp"

#include <cerrno>
#include <cstdlib>
#include <fcntl.h>
#include <openssl/rand.h>
#include <pwd.h>
#include <unistd.h>
#include <vector>

namespace cachekit {

void UniqueFd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

UniqueFd open_or_throw(const fs::path &path, int flags, int mode) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  if (fd < 0) throw_errno("cannot open " + path.string());
  return UniqueFd(fd);
}

void write_all(int fd, const void *data, size_t size, const fs::path &what) {
  const auto *p = static_cast<const char *>(data);
  while (size > 0) {
    ssize_t n = ::write(fd, p, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno("cannot write " + what.string());
    }
    p += n;
    size -= static_cast<size_t>(n);
  }
}

void fsync_or_throw(int fd, const fs::path &what) {
  if (::fsync(fd) != 0) throw_errno("cannot fsync " + what.string());
}

void fsync_directory(const fs::path &dir) {
  auto fd = open_or_throw(dir, O_RDONLY | O_DIRECTORY);
  fsync_or_throw(fd.get(), dir);
}

std::string read_file(const fs::path &path) {
  auto fd = open_or_throw(path, O_RDONLY);
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno("cannot read " + path.string());
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

void write_file_atomic(const fs::path &path, std::string_view content) {
  const auto tmp = path.parent_path() / ("." + path.filename().string() + ".tmp-" + random_hex(6));
  {
    auto fd = open_or_throw(tmp, O_WRONLY | O_CREAT | O_EXCL, 0644);
    write_all(fd.get(), content.data(), content.size(), tmp);
    fsync_or_throw(fd.get(), tmp);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    throw_errno("cannot rename " + tmp.string() + " to " + path.string(), e);
  }
}

std::string home_directory() {
  if (const char *home = std::getenv("HOME"); home && *home) return home;
  if (const passwd *pw = ::getpwuid(::getuid()); pw && pw->pw_dir) return pw->pw_dir;
  throw UsageError("cannot expand '~': HOME is not set");
}

std::string expand_home(std::string_view path) {
  if (path == "~") return home_directory();
  if (path.starts_with("~/")) return home_directory() + std::string(path.substr(1));
  return std::string(path);
}

fs::path normalize_lexically(const fs::path &absolute) {
  // String-based: this runs for every archive member, and fs::path's component iteration
  // allocates per component.
  const std::string &s = absolute.native();
  std::string out;
  out.reserve(s.size() + 1);
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && s[i] == '/')
      ++i;
    size_t j = s.find('/', i);
    if (j == std::string::npos) j = s.size();
    const std::string_view part(s.data() + i, j - i);
    if (part == "..") {
      const auto k = out.rfind('/');
      out.resize(k == std::string::npos ? 0 : k);
    } else if (!part.empty() && part != ".") {
      out += '/';
      out.append(part);
    }
    i = j;
  }
  if (out.empty()) out = "/";
  return fs::path(std::move(out));
}

bool is_within(const fs::path &path, const fs::path &root) {
  const auto &p = path.native();
  const auto &r = root.native();
  if (r == "/") return true;
  if (!p.starts_with(r)) return false;
  return p.size() == r.size() || p[r.size()] == '/';
}

std::string random_hex(size_t bytes) {
  std::vector<unsigned char> buf(bytes);
  if (RAND_bytes(buf.data(), static_cast<int>(buf.size())) != 1)
    throw OperationError("cannot get random bytes from OpenSSL");
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : buf) {
    out += kHex[c >> 4];
    out += kHex[c & 0xf];
  }
  return out;
}

} // namespace cachekit
