#pragma once
// See ascii_mbrtowc.cpp: this process's mbrtowc answers ASCII itself once told that LC_CTYPE
// is UTF-8 (main() sets it before any thread starts), and asks glibc for everything else.

namespace cachekit::archive {

void use_ascii_mbrtowc_fast_path(bool ctype_is_utf8);

} // namespace cachekit::archive
