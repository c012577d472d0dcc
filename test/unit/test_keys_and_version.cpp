#include "engine/keys.hpp"
#include "engine/scope.hpp"
#include "engine/version.hpp"
#include "util/error.hpp"

#include <catch2/catch.hpp>

using namespace cachekit;
using namespace cachekit::engine;

TEST_CASE("cache version matches actions/cache's published examples") {
  // Values computed with @actions/cache 6.3.0 getCacheVersion (FACTS.md / research).
  CHECK(cache_version({"~/go/pkg/mod"}) == "2a8d0f2be1a88abb057cd9fcea9832bd16e7ab71798dbf93cd890eb9add83cf6");
  CHECK(cache_version({"~/.cache/go-build", "~/go/pkg/mod"}) ==
        "947557cc2d2a8d1fb62f20f60a2137dfe9f57238bfbd84c05bc7ddb26173bba8");
  CHECK(cache_version({"node_modules"}) == "7fcda33c1e1d849a13bcc06f49b9ab64efc01ca9dabe4d7a8d0d387feef4fc88");
  CHECK(cache_version({"~/go/pkg/mod"}, "gzip") == "13f80c324ea7096644348536ecc8fa51b609330d081da6606849e2edca27a798");
  CHECK(cache_version({"~/go/pkg/mod"}, "zstd-without-long", true) ==
        "8b132de16a43cc7950af4739ffed01d66d0948109433b5a26017d23ce5c55788");
}

TEST_CASE("key validation follows actions/cache's limits") {
  CHECK_NOTHROW(validate_key(std::string(512, 'k'), "key"));
  CHECK_THROWS_AS(validate_key(std::string(513, 'k'), "key"), UsageError);
  CHECK_THROWS_AS(validate_key("", "key"), UsageError);
  CHECK_THROWS_WITH(validate_key("a,b", "key"), Catch::Contains("comma") && Catch::Contains("key"));
  CHECK_NOTHROW(validate_keys("k", std::vector<std::string>(9, "r")));
  CHECK_THROWS_WITH(validate_keys("k", std::vector<std::string>(10, "r")), Catch::Contains("restore-keys"));
  CHECK_THROWS_WITH(validate_keys("k", {"ok", "bad,key"}), Catch::Contains("restore-keys"));
}

TEST_CASE("cache policy parsing") {
  CHECK(parse_cache_policy("") == CachePolicy::ReadWrite);
  CHECK(parse_cache_policy("read-only") == CachePolicy::ReadOnly);
  CHECK(parse_cache_policy("write-only") == CachePolicy::WriteOnly);
  CHECK(parse_cache_policy("off") == CachePolicy::Off);
  CHECK_THROWS_WITH(parse_cache_policy("rw"), Catch::Contains("cache-policy"));
  CHECK(may_read(CachePolicy::ReadOnly));
  CHECK_FALSE(may_write(CachePolicy::ReadOnly));
  CHECK_FALSE(may_read(CachePolicy::WriteOnly));
  CHECK_FALSE(may_read(CachePolicy::Off));
}

TEST_CASE("scope read order: own ref, PR base, default branch, no duplicates") {
  Scope s{"o/r", "refs/pull/7/merge", "develop", "main"};
  CHECK(s.read_refs() == std::vector<std::string>{"refs/pull/7/merge", "refs/heads/develop", "refs/heads/main"});
  Scope on_main{"o/r", "refs/heads/main", "", "main"};
  CHECK(on_main.read_refs() == std::vector<std::string>{"refs/heads/main"});
}
