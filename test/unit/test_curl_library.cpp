#include "http/curl_library.hpp"
#include "util/error.hpp"

#include <catch2/catch.hpp>
#include <string>

using cachekit::OperationError;
using cachekit::http::CurlLibrary;

TEST_CASE("libcurl is resolved from its shared library, every entry point") {
  const CurlLibrary lib = CurlLibrary::load(cachekit::http::kCurlSoname);
  CHECK(std::string(lib.easy_strerror(CURLE_OK)) == "No error");
  CURL *handle = lib.easy_init();
  REQUIRE(handle != nullptr);
  CHECK(lib.easy_setopt(handle, CURLOPT_URL, "http://127.0.0.1:1/") == CURLE_OK);
  long status = -1;
  CHECK(lib.easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK);
  CHECK(status == 0);
  lib.easy_reset(handle);
  lib.easy_cleanup(handle);
  curl_slist *list = lib.slist_append(nullptr, "a: b");
  REQUIRE(list != nullptr);
  CHECK(std::string(list->data) == "a: b");
  lib.slist_free_all(list);
  CHECK(lib.global_init != nullptr);
  CHECK(lib.easy_perform != nullptr);
}

TEST_CASE("a missing libcurl is an error naming the library and how to get it") {
  try {
    (void)CurlLibrary::load("libcachekit-no-such-curl.so.4");
    FAIL("loading a library that does not exist succeeded");
  } catch (const OperationError &e) {
    const std::string message = e.what();
    CHECK_THAT(message, Catch::Contains("cannot load libcachekit-no-such-curl.so.4"));
    CHECK_THAT(message, Catch::Contains("apt-get install libcurl4"));
  }
}

TEST_CASE("a library without libcurl's entry points is refused, naming the missing one") {
  try {
    (void)CurlLibrary::load("libz.so.1");
    FAIL("libz was accepted as libcurl");
  } catch (const OperationError &e) {
    CHECK_THAT(std::string(e.what()), Catch::Contains("libz.so.1 has no curl_global_init()"));
  }
}
