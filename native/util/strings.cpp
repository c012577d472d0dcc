#include "util/strings.hpp"

#include "util/error.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <ctime>
#include <fmt/format.h>

namespace cachekit {

std::string trim(std::string_view s) {
  const auto is_space = [](unsigned char c) { return std::isspace(c) != 0; };
  while (!s.empty() && is_space(static_cast<unsigned char>(s.front())))
    s.remove_prefix(1);
  while (!s.empty() && is_space(static_cast<unsigned char>(s.back())))
    s.remove_suffix(1);
  return std::string(s);
}

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    auto pos = s.find(sep, start);
    out.emplace_back(s.substr(start, pos == std::string_view::npos ? s.npos : pos - start));
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  return out;
}

std::vector<std::string> split_lines(std::string_view s) {
  std::vector<std::string> out;
  for (auto &line : split(s, '\n')) {
    auto t = trim(line);
    if (!t.empty()) out.push_back(std::move(t));
  }
  return out;
}

std::string join(const std::vector<std::string> &parts, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) out += sep;
    out += parts[i];
  }
  return out;
}

std::string to_lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

namespace {
bool parse_u64(std::string_view digits, uint64_t &out) {
  if (digits.empty()) return false;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), out);
  return ec == std::errc() && ptr == digits.data() + digits.size();
}
} // namespace

uint64_t parse_size(std::string_view text, std::string_view input_name) {
  auto t = trim(text);
  std::string_view v = t;
  uint64_t multiplier = 1;
  if (!v.empty() && std::isalpha(static_cast<unsigned char>(v.back()))) {
    if (v.size() >= 2 && (v.ends_with("B") || v.ends_with("b")) &&
        std::isalpha(static_cast<unsigned char>(v[v.size() - 2])))
      v.remove_suffix(1); // accept "10GB" and "10GiB"-ish spellings
    if (v.ends_with("i")) v.remove_suffix(1);
    switch (std::toupper(static_cast<unsigned char>(v.back()))) {
    case 'K': multiplier = 1ULL << 10; break;
    case 'M': multiplier = 1ULL << 20; break;
    case 'G': multiplier = 1ULL << 30; break;
    case 'T': multiplier = 1ULL << 40; break;
    case 'B': multiplier = 1; break;
    default: throw UsageError(fmt::format("{}: '{}' is not a size (expected e.g. 512M, 10G)", input_name, text));
    }
    v.remove_suffix(1);
  }
  uint64_t n = 0;
  if (!parse_u64(v, n))
    throw UsageError(fmt::format("{}: '{}' is not a size (expected e.g. 512M, 10G)", input_name, text));
  return n * multiplier;
}

std::chrono::seconds parse_duration(std::string_view text, std::string_view input_name) {
  auto t = trim(text);
  std::string_view v = t;
  uint64_t unit = 1;
  if (!v.empty() && std::isalpha(static_cast<unsigned char>(v.back()))) {
    switch (v.back()) {
    case 's': unit = 1; break;
    case 'm': unit = 60; break;
    case 'h': unit = 3600; break;
    case 'd': unit = 86400; break;
    case 'w': unit = uint64_t{7} * 86400; break;
    default: throw UsageError(fmt::format("{}: '{}' is not a duration (expected e.g. 12h, 7d)", input_name, text));
    }
    v.remove_suffix(1);
  }
  uint64_t n = 0;
  if (!parse_u64(v, n))
    throw UsageError(fmt::format("{}: '{}' is not a duration (expected e.g. 12h, 7d)", input_name, text));
  return std::chrono::seconds(static_cast<int64_t>(n * unit));
}

bool parse_bool(std::string_view text, std::string_view input_name) {
  const auto v = to_lower(trim(text));
  if (v == "true" || v == "1" || v == "yes") return true;
  if (v == "false" || v == "0" || v == "no" || v.empty()) return false;
  throw UsageError(fmt::format("{}: '{}' is not a boolean (expected true or false)", input_name, text));
}

int parse_int(std::string_view text, std::string_view input_name, int min, int max) {
  const auto t = trim(text);
  int n = 0;
  auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), n);
  if (t.empty() || ec != std::errc() || ptr != t.data() + t.size() || n < min || n > max)
    throw UsageError(fmt::format("{}: '{}' is not a whole number from {} to {}", input_name, text, min, max));
  return n;
}

std::string human_bytes(uint64_t bytes) {
  static constexpr const char *kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  size_t u = 0;
  while (v >= 1024 && u + 1 < std::size(kUnits)) {
    v /= 1024;
    ++u;
  }
  return u == 0 ? fmt::format("{} B", bytes) : fmt::format("{:.1f} {}", v, kUnits[u]);
}

std::string human_duration(std::chrono::seconds age) {
  const auto s = age.count();
  if (s < 120) return fmt::format("{}s", s);
  if (s < 7200) return fmt::format("{}m", s / 60);
  if (s < 172800) return fmt::format("{}h", s / 3600);
  return fmt::format("{}d", s / 86400);
}

std::string rate_mbs(uint64_t bytes, double seconds) {
  if (seconds < 0.001) return "-";
  return fmt::format("{:.1f} MB/s", static_cast<double>(bytes) / 1e6 / seconds);
}

int64_t unix_millis_now() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string iso8601_utc(int64_t unix_millis) {
  std::time_t t = static_cast<std::time_t>(unix_millis / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:03d}Z", buf, static_cast<int>(unix_millis % 1000));
}

} // namespace cachekit
