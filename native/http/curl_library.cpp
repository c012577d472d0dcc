#include "http/curl_library.hpp"

#include "util/error.hpp"

#include <dlfcn.h>
#include <fmt/format.h>

namespace cachekit::http {
namespace {

template <typename Fn> void resolve(void *handle, const char *soname, const char *name, Fn &out) {
  dlerror();
  void *symbol = dlsym(handle, name);
  if (symbol == nullptr) {
    const char *error = dlerror();
    throw OperationError(fmt::format("{} has no {}(): {}", soname, name, error ? error : "symbol not found"));
  }
  out = reinterpret_cast<Fn>(symbol);
}

} // namespace

void CurlLibrary::Closer::operator()(void *handle) const {
  dlclose(handle);
}

CurlLibrary CurlLibrary::load(const char *soname) {
  void *handle = dlopen(soname, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
  if (handle == nullptr) {
    const char *error = dlerror();
    throw OperationError(fmt::format("cannot load {}: {} (the s3 and github backends need libcurl; on Debian/Ubuntu: "
                                     "apt-get install libcurl4)",
                                     soname, error ? error : "unknown loader error"));
  }
  CurlLibrary lib;
  lib.handle_ = std::shared_ptr<void>(handle, Closer{});
  resolve(handle, soname, "curl_global_init", lib.global_init);
  resolve(handle, soname, "curl_easy_init", lib.easy_init);
  resolve(handle, soname, "curl_easy_cleanup", lib.easy_cleanup);
  resolve(handle, soname, "curl_easy_reset", lib.easy_reset);
  resolve(handle, soname, "curl_easy_setopt", lib.easy_setopt);
  resolve(handle, soname, "curl_easy_getinfo", lib.easy_getinfo);
  resolve(handle, soname, "curl_easy_perform", lib.easy_perform);
  resolve(handle, soname, "curl_easy_strerror", lib.easy_strerror);
  resolve(handle, soname, "curl_slist_append", lib.slist_append);
  resolve(handle, soname, "curl_slist_free_all", lib.slist_free_all);
  return lib;
}

const CurlLibrary &curl() {
  static const CurlLibrary instance = CurlLibrary::load(kCurlSoname);
  return instance;
}

} // namespace cachekit::http
