#pragma once
// The libcurl entry points cachekit uses, resolved from the shared library at first use.
//
// Why not link libcurl: the executable would then load libcurl and its ~25 dependencies (TLS,
// Kerberos, LDAP, IDN, HTTP/2, ...) on every start, also for the local backend, which never
// makes a request. From a cold page cache (a fresh runner) that was ~20 ms of a ~80 ms small
// restore. The headers still come from the libcurl we build against, so every signature is
// checked at compile time.
#include <curl/curl.h>
#include <memory>

namespace cachekit::http {

struct CurlLibrary {
  decltype(&::curl_global_init) global_init = nullptr;
  decltype(&::curl_easy_init) easy_init = nullptr;
  decltype(&::curl_easy_cleanup) easy_cleanup = nullptr;
  decltype(&::curl_easy_reset) easy_reset = nullptr;
  decltype(&::curl_easy_setopt) easy_setopt = nullptr;
  decltype(&::curl_easy_getinfo) easy_getinfo = nullptr;
  decltype(&::curl_easy_perform) easy_perform = nullptr;
  decltype(&::curl_easy_strerror) easy_strerror = nullptr;
  decltype(&::curl_slist_append) slist_append = nullptr;
  decltype(&::curl_slist_free_all) slist_free_all = nullptr;

  // Loads `soname` and resolves every entry point above; throws OperationError naming the
  // library and the symbol or loader error. The library is never unmapped (RTLD_NODELETE):
  // libcurl keeps global state until the process exits.
  static CurlLibrary load(const char *soname);

private:
  struct Closer {
    void operator()(void *handle) const;
  };
  std::shared_ptr<void> handle_;
};

// The soname of the libcurl ABI the headers describe (stable since libcurl 7.16, 2006).
inline constexpr char kCurlSoname[] = "libcurl.so.4";

// The process-wide instance, loaded on the first call; throws like CurlLibrary::load.
const CurlLibrary &curl();

} // namespace cachekit::http
