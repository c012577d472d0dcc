// A faster mbrtowc() for this process, answering ASCII itself and passing the rest to glibc.
//
// Why: libarchive's tar reader converts every regular file's name to wide characters (it looks
// for a trailing '/', archive_read_support_format_tar.c), one mbrtowc() call per byte, each
// through glibc's gconv machinery. For a pnpm store (45k names of ~140 bytes) that was 8% of a
// restore's CPU time, with no libarchive option to turn it off.
//
// How: the executable defines mbrtowc, so the dynamic linker binds libarchive's calls here
// (the executable comes first in symbol lookup). A byte below 0x80 in the initial shift state
// of a UTF-8 locale is that code point; that is the whole fast path, on only after main() has
// set a UTF-8 LC_CTYPE and said so (asking the locale on every call cost more than it saved).
// Everything else (multibyte sequences, a pending partial character, the internal state of a
// NULL `ps`) goes to glibc unchanged. test_ascii_mbrtowc.cpp checks both against glibc.
#include "archive/ascii_mbrtowc.hpp"

#include <atomic>
#include <cwchar>
#include <dlfcn.h>

namespace {

using MbrtowcFn = size_t (*)(wchar_t *, const char *, size_t, mbstate_t *);

MbrtowcFn glibc_mbrtowc() {
  static const auto next = reinterpret_cast<MbrtowcFn>(dlsym(RTLD_NEXT, "mbrtowc"));
  return next;
}

std::atomic<bool> ctype_is_utf8{false};

} // namespace

void cachekit::archive::use_ascii_mbrtowc_fast_path(bool ctype_is_utf8_now) {
  ctype_is_utf8.store(ctype_is_utf8_now, std::memory_order_relaxed);
}

extern "C" size_t mbrtowc(wchar_t *pwc, const char *s, size_t n, mbstate_t *ps) noexcept {
  if (s != nullptr && n > 0 && ps != nullptr && static_cast<unsigned char>(*s) < 0x80 && std::mbsinit(ps) != 0 &&
      ctype_is_utf8.load(std::memory_order_relaxed)) {
    if (pwc != nullptr) *pwc = static_cast<wchar_t>(*s);
    return *s != '\0' ? 1 : 0;
  }
  return glibc_mbrtowc()(pwc, s, n, ps);
}
