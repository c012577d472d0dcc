#include "engine/maintenance.hpp"
#include "util/error.hpp"
#include "util/strings.hpp"

#include <catch2/catch.hpp>

using namespace cachekit;

namespace {
storage::EntryManifest used(std::string key, int64_t last_used_ms, uint64_t size) {
  storage::EntryManifest m;
  m.key = std::move(key);
  m.last_used_ms = last_used_ms;
  m.size = size;
  return m;
}
std::vector<std::string> keys(const std::vector<storage::EntryManifest> &v) {
  std::vector<std::string> out;
  for (const auto &m : v)
    out.push_back(m.key);
  return out;
}
} // namespace

TEST_CASE("prune evicts by last use, not by creation") {
  const int64_t now = 100 * 86400 * 1000LL;
  std::vector<storage::EntryManifest> entries{used("hot", now - 1000, 100),
                                              used("cold", now - 10LL * 86400 * 1000, 100),
                                              used("warm", now - 2LL * 86400 * 1000, 100)};
  engine::PruneRequest by_age;
  by_age.max_age = std::chrono::hours(24 * 7);
  CHECK(keys(engine::select_evictions(entries, by_age, now)) == std::vector<std::string>{"cold"});

  engine::PruneRequest by_size;
  by_size.max_total_size = 150;
  CHECK(keys(engine::select_evictions(entries, by_size, now)) == std::vector<std::string>{"cold", "warm"});

  engine::PruneRequest keep;
  keep.max_age = std::chrono::seconds(0);
  keep.keep_last_used = 2;
  CHECK(keys(engine::select_evictions(entries, keep, now)) == std::vector<std::string>{"cold"});
}

TEST_CASE("sizes, durations and booleans name the input on error") {
  CHECK(parse_size("10G", "max-total-size") == 10ULL << 30);
  CHECK(parse_size("512M", "x") == 512ULL << 20);
  CHECK(parse_size("64KiB", "x") == 64ULL << 10);
  CHECK(parse_size("1234", "x") == 1234);
  CHECK_THROWS_WITH(parse_size("lots", "max-total-size"), Catch::Contains("max-total-size"));
  CHECK(parse_duration("7d", "max-age") == std::chrono::hours(168));
  CHECK(parse_duration("90s", "x") == std::chrono::seconds(90));
  CHECK_THROWS_WITH(parse_duration("7y", "max-age"), Catch::Contains("max-age"));
  CHECK(parse_bool("TRUE", "x"));
  CHECK_FALSE(parse_bool("false", "x"));
  CHECK_THROWS_AS(parse_bool("maybe", "x"), UsageError);
  CHECK(split_lines("  a \n\n b\n") == std::vector<std::string>{"a", "b"});
}
