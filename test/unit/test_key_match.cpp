#include "storage/key_match.hpp"

#include <catch2/catch.hpp>
#include <map>

using namespace cachekit::storage;

namespace {
EntryManifest entry(std::string key, int64_t created, std::string version = "v1") {
  EntryManifest m;
  m.key = std::move(key);
  m.created_ms = created;
  m.version = std::move(version);
  return m;
}

struct FakeStore {
  std::map<std::string, std::vector<EntryManifest>> by_ref;
  ScopeLister lister() {
    return [this](const std::string &ref, const std::string &prefix) {
      std::vector<EntryManifest> out;
      for (const auto &e : by_ref[ref])
        if (e.key.starts_with(prefix)) out.push_back(e);
      return out;
    };
  }
};
} // namespace

TEST_CASE("primary key matches exactly, never by prefix") {
  FakeStore s;
  s.by_ref["main"] = {entry("K-x", 1)};
  CHECK_FALSE(select_entry({"K", {}, "v1", "o/r", {"main"}}, s.lister()));
  s.by_ref["main"].push_back(entry("K", 0));
  auto hit = select_entry({"K", {}, "v1", "o/r", {"main"}}, s.lister());
  REQUIRE(hit);
  CHECK(hit->entry.key == "K");
  CHECK(hit->exact);
}

TEST_CASE("restore keys in order; newest prefix match wins; exact restore key preferred") {
  FakeStore s;
  s.by_ref["main"] = {entry("deps-a-1", 1), entry("deps-b-1", 2), entry("deps-a-2", 3), entry("deps-b-", 0)};
  auto hit = select_entry({"deps-c", {"deps-a-", "deps-b-"}, "v1", "o/r", {"main"}}, s.lister());
  REQUIRE(hit);
  CHECK(hit->entry.key == "deps-a-2");
  CHECK_FALSE(hit->exact);
  hit = select_entry({"deps-c", {"deps-b-"}, "v1", "o/r", {"main"}}, s.lister());
  REQUIRE(hit);
  CHECK(hit->entry.key == "deps-b-"); // exact match of the restore key beats newer prefix matches
}

TEST_CASE("other versions never match") {
  FakeStore s;
  s.by_ref["main"] = {entry("K", 1, "v2")};
  CHECK_FALSE(select_entry({"K", {"K"}, "v1", "o/r", {"main"}}, s.lister()));
}

TEST_CASE("scopes: own ref first, then base, then default; per key") {
  FakeStore s;
  s.by_ref["refs/heads/main"] = {entry("k-main", 5), entry("exact", 1)};
  s.by_ref["refs/heads/feature"] = {entry("k-feature", 1)};
  auto hit = select_entry({"none", {"k-"}, "v1", "o/r", {"refs/heads/feature", "refs/heads/main"}}, s.lister());
  REQUIRE(hit);
  CHECK(hit->entry.key == "k-feature"); // older, but in the run's own ref
  hit = select_entry({"exact", {"k-"}, "v1", "o/r", {"refs/heads/feature", "refs/heads/main"}}, s.lister());
  REQUIRE(hit);
  CHECK(hit->entry.key == "exact"); // an exact primary hit in main beats a restore-key hit in the own ref
  CHECK(hit->exact);
}
