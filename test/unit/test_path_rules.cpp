#include "archive/path_rules.hpp"
#include "engine/paths.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"

#include <catch2/catch.hpp>

using namespace cachekit;
using cachekit::archive::PathRules;

TEST_CASE("members resolve relative to the workspace and must stay inside the roots") {
  PathRules rules("/ws", {"/ws/data", "/home/u/go/pkg/mod"});
  CHECK(rules.resolve_member("data/a.txt") == "/ws/data/a.txt");
  CHECK(rules.resolve_member("./data/x/../y") == "/ws/data/y");
  CHECK(rules.resolve_member("../home/u/go/pkg/mod/m@v1/f.go") == "/home/u/go/pkg/mod/m@v1/f.go");
  CHECK(rules.resolve_member("/home/u/go/pkg/mod/x") == "/home/u/go/pkg/mod/x");
  CHECK_THROWS_AS(rules.resolve_member("data/../../etc/passwd"), UnsafeArchiveError);
  CHECK_THROWS_AS(rules.resolve_member("/etc/passwd"), UnsafeArchiveError);
  CHECK_THROWS_AS(rules.resolve_member("datax/file"), UnsafeArchiveError); // a sibling sharing the prefix
  CHECK_THROWS_AS(rules.resolve_member(""), UnsafeArchiveError);
}

TEST_CASE("symlink targets are judged against the roots") {
  PathRules rules("/ws", {"/ws/data"});
  CHECK(rules.symlink_stays_inside("/ws/data/link", "a.txt"));
  CHECK(rules.symlink_stays_inside("/ws/data/sub/link", "../a.txt"));
  CHECK(rules.symlink_stays_inside("/ws/data/link", "/ws/data/b"));
  CHECK_FALSE(rules.symlink_stays_inside("/ws/data/link", "../../etc"));
  CHECK_FALSE(rules.symlink_stays_inside("/ws/data/link", "/etc/passwd"));
  CHECK_FALSE(rules.symlink_stays_inside("/ws/data/link", ""));
}

TEST_CASE("lexical helpers") {
  CHECK(normalize_lexically("/a/./b/../c//d") == "/a/c/d");
  CHECK(normalize_lexically("/../..") == "/");
  CHECK(is_within("/a/b", "/a"));
  CHECK(is_within("/a", "/a"));
  CHECK_FALSE(is_within("/ab", "/a"));
}

TEST_CASE("cache path patterns: roots for globs, no paths is bad input") {
  const auto paths = engine::resolve_cache_paths({"data", "build/*/out", "!data/skip"}, "/nonexistent-ws");
  REQUIRE(paths.roots.size() == 2);
  CHECK(paths.roots[0] == "/nonexistent-ws/data");
  CHECK(paths.roots[1] == "/nonexistent-ws/build");
  CHECK(paths.existing.empty());
  CHECK_THROWS_AS(engine::resolve_cache_paths({}, "/ws"), UsageError);
  CHECK_THROWS_AS(engine::resolve_cache_paths({"!only-negative"}, "/ws"), UsageError);
}
