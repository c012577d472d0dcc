#pragma once
// A fresh directory under /tmp for one test, removed with everything in it afterwards.
#include "util/fs.hpp"

#include <cstdlib>
#include <string>
#include <system_error>

namespace cachekit::test {

struct TempDir {
  fs::path path;
  TempDir() {
    std::string tmpl = "/tmp/cachekit-unit-XXXXXX";
    path = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  TempDir(const TempDir &) = delete;
  TempDir &operator=(const TempDir &) = delete;
};

} // namespace cachekit::test
