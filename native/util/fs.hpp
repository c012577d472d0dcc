#pragma once
// Small POSIX file-system helpers with RAII descriptors.
#include <filesystem>
#include <string>
#include <string_view>

namespace cachekit {

namespace fs = std::filesystem;

class UniqueFd {
public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { reset(); }
  UniqueFd(UniqueFd &&other) noexcept : fd_(other.release()) {}
  UniqueFd &operator=(UniqueFd &&other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  UniqueFd(const UniqueFd &) = delete;
  UniqueFd &operator=(const UniqueFd &) = delete;

  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void reset(int fd = -1);

private:
  int fd_ = -1;
};

UniqueFd open_or_throw(const fs::path &path, int flags, int mode = 0644);
void write_all(int fd, const void *data, size_t size, const fs::path &what);
void fsync_or_throw(int fd, const fs::path &what);
void fsync_directory(const fs::path &dir);

std::string read_file(const fs::path &path);
// Writes `content` to a temp file beside `path`, fsyncs it and renames it over `path`.
void write_file_atomic(const fs::path &path, std::string_view content);

// `~` and `~/x` expand to $HOME.
std::string expand_home(std::string_view path);
std::string home_directory();

// Lexical normalisation of an absolute path: resolves `.` and `..` without touching disk.
fs::path normalize_lexically(const fs::path &absolute);
// True when `path` equals `root` or lies below it (both lexically normal and absolute).
bool is_within(const fs::path &path, const fs::path &root);

std::string random_hex(size_t bytes);

} // namespace cachekit
