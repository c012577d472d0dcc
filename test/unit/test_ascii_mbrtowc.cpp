// The process-wide mbrtowc (native/archive/ascii_mbrtowc.cpp) must be the one shared libraries
// bind to, and must answer exactly as glibc's does.
#include "archive/ascii_mbrtowc.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <clocale>
#include <cwchar>
#include <dlfcn.h>
#include <string>
#include <vector>

namespace {

using MbrtowcFn = size_t (*)(wchar_t *, const char *, size_t, mbstate_t *);

MbrtowcFn glibc_mbrtowc() {
  return reinterpret_cast<MbrtowcFn>(dlsym(RTLD_NEXT, "mbrtowc"));
}

class CtypeLocale {
public:
  explicit CtypeLocale(const char *name) : previous_(std::setlocale(LC_CTYPE, nullptr)) {
    active_ = std::setlocale(LC_CTYPE, name) != nullptr;
  }
  ~CtypeLocale() { std::setlocale(LC_CTYPE, previous_.c_str()); }
  CtypeLocale(const CtypeLocale &) = delete;
  CtypeLocale &operator=(const CtypeLocale &) = delete;
  [[nodiscard]] bool active() const { return active_; }

private:
  std::string previous_;
  bool active_ = false;
};

class FastPath {
public:
  explicit FastPath(bool on) { cachekit::archive::use_ascii_mbrtowc_fast_path(on); }
  ~FastPath() { cachekit::archive::use_ascii_mbrtowc_fast_path(false); }
  FastPath(const FastPath &) = delete;
  FastPath &operator=(const FastPath &) = delete;
};

struct Decoded {
  size_t result;
  wchar_t wc;
  bool operator==(const Decoded &) const = default;
};

// Decodes `input` piece by piece (each call sees at most `step` bytes) with one state.
std::vector<Decoded> decode(MbrtowcFn fn, const std::string &input, size_t step) {
  std::vector<Decoded> out;
  mbstate_t state{};
  size_t pos = 0;
  while (pos < input.size()) {
    const size_t n = std::min(step, input.size() - pos);
    wchar_t wc = L'?';
    const size_t r = fn(&wc, input.data() + pos, n, &state);
    out.push_back({r, r <= n ? wc : L'?'});
    if (r == static_cast<size_t>(-1)) break;
    pos += r == static_cast<size_t>(-2) ? n : (r == 0 ? 1 : r);
  }
  return out;
}

void require_same_as_glibc(const std::string &input) {
  const MbrtowcFn glibc = glibc_mbrtowc();
  for (size_t step : {1UL, 2UL, 4UL, 64UL}) {
    INFO("input of " << input.size() << " bytes, fed " << step << " at a time");
    REQUIRE(decode(&mbrtowc, input, step) == decode(glibc, input, step));
  }
}

} // namespace

TEST_CASE("shared libraries bind mbrtowc to ours") {
  // libarchive resolves mbrtowc through the global scope, which starts at the executable.
  REQUIRE(dlsym(RTLD_DEFAULT, "mbrtowc") == reinterpret_cast<void *>(&mbrtowc));
  REQUIRE(glibc_mbrtowc() != nullptr);
  REQUIRE(glibc_mbrtowc() != &mbrtowc);
}

TEST_CASE("mbrtowc answers as glibc does, in UTF-8 and in the C locale") {
  const char *locale = GENERATE("C.UTF-8", "C");
  const bool fast_path = GENERATE(true, false);
  CtypeLocale ctype(locale);
  REQUIRE(ctype.active());
  const FastPath fast(fast_path);
  INFO("LC_CTYPE " << locale << ", fast path " << fast_path);

  std::string every_byte;
  for (int b = 1; b < 256; ++b)
    every_byte.push_back(static_cast<char>(b));
  for (char c : every_byte)
    require_same_as_glibc(std::string(1, c) + "x");
  require_same_as_glibc("pnpm/v10/files/ab/0123456789abcdef-exec");
  require_same_as_glibc("caf\xc3\xa9/\xe6\x97\xa5\xe6\x9c\xac/\xf0\x9f\x98\x80.txt"); // é, 日本, 😀
  require_same_as_glibc("bad \xc3 then ascii");                                       // truncated sequence
  require_same_as_glibc("\xe6\x97"
                        "a"); // ASCII byte where a continuation byte must come

  // The embedded NUL, a NULL output pointer and a NULL string behave as glibc's.
  mbstate_t a{}, b{};
  REQUIRE(mbrtowc(nullptr, "\0", 1, &a) == glibc_mbrtowc()(nullptr, "\0", 1, &b));
  REQUIRE(mbrtowc(nullptr, "A", 1, &a) == glibc_mbrtowc()(nullptr, "A", 1, &b));
  REQUIRE(mbrtowc(nullptr, nullptr, 0, &a) == glibc_mbrtowc()(nullptr, nullptr, 0, &b));
  REQUIRE(mbrtowc(nullptr, "A", 0, &a) == glibc_mbrtowc()(nullptr, "A", 0, &b));
}

TEST_CASE("a character split across calls is finished by glibc with its state") {
  CtypeLocale ctype("C.UTF-8");
  REQUIRE(ctype.active());
  const FastPath fast(true);
  mbstate_t state{};
  wchar_t wc = 0;
  REQUIRE(mbrtowc(&wc, "\xc3", 1, &state) == static_cast<size_t>(-2));
  REQUIRE(mbrtowc(&wc, "\xa9", 1, &state) == 1);
  REQUIRE(wc == L'\u00e9');
  // And with the internal state (ps == NULL) too.
  REQUIRE(mbrtowc(&wc, "\xc3", 1, nullptr) == static_cast<size_t>(-2));
  REQUIRE(mbrtowc(&wc, "\xa9", 1, nullptr) == 1);
  REQUIRE(wc == L'\u00e9');
}
