// The GitHub cache service v2 wire format (twirp JSON, Azure block ids, ranges) and the
// primary-key correction of the service's prefix matching.
#include "storage/gha_blob.hpp"
#include "storage/gha_lookup.hpp"
#include "storage/gha_settings.hpp"
#include "storage/gha_twirp.hpp"
#include "util/error.hpp"
#include "util/log.hpp"

#include <catch2/catch.hpp>
#include <map>

using namespace cachekit;
using namespace cachekit::storage;

TEST_CASE("twirp request bodies are what @actions/cache sends, byte for byte") {
  const std::string v = "089a62a2df88";
  CHECK(gha::create_entry_body("linux-key-1", v) == R"({"key":"linux-key-1","version":"089a62a2df88"})");
  CHECK(gha::finalize_body("linux-key-1", v, 589) ==
        R"({"key":"linux-key-1","size_bytes":"589","version":"089a62a2df88"})");
  CHECK(gha::finalize_body("k", v, 10000000000ull) ==
        R"({"key":"k","size_bytes":"10000000000","version":"089a62a2df88"})");
  CHECK(gha::download_url_body("linux-key-2", {"linux-key"}, v) ==
        R"({"key":"linux-key-2","restore_keys":["linux-key"],"version":"089a62a2df88"})");
  // defaults are omitted: no empty restore_keys
  CHECK(gha::download_url_body("k", {}, v) == R"({"key":"k","version":"089a62a2df88"})");
  // keys are JSON-escaped
  CHECK(gha::create_entry_body("a\"b\\c", v) == R"({"key":"a\"b\\c","version":"089a62a2df88"})");
}

TEST_CASE("twirp replies are read in either protojson spelling; a missing ok is false") {
  auto c = gha::parse_create_entry(R"({"ok":true,"signed_upload_url":"https://x/b?sig=1"})");
  CHECK(c.ok);
  CHECK(c.signed_upload_url == "https://x/b?sig=1");
  c = gha::parse_create_entry(R"({"ok":true,"signedUploadUrl":"https://y"})");
  CHECK(c.signed_upload_url == "https://y");
  c = gha::parse_create_entry(R"({"message":"cache write denied: no"})");
  CHECK_FALSE(c.ok);
  CHECK(c.message == "cache write denied: no");

  auto f = gha::parse_finalize(R"({"ok":true,"entry_id":"10000000001"})");
  CHECK(f.ok);
  CHECK(f.entry_id == "10000000001");
  CHECK(gha::parse_finalize(R"({"ok":true,"entryId":42})").entry_id == "42");

  auto d = gha::parse_download_url(R"({"ok":true,"signed_download_url":"u","matched_key":"k-1","extra":[1]})");
  CHECK(d.ok);
  CHECK(d.signed_download_url == "u");
  CHECK(d.matched_key == "k-1");
  CHECK(gha::parse_download_url(R"({"ok":true,"signedDownloadUrl":"u2","matchedKey":"k2"})").matched_key == "k2");
  CHECK_FALSE(gha::parse_download_url(R"({"ok":false})").ok);
  CHECK_FALSE(gha::parse_download_url("{}").ok);

  CHECK_THROWS_AS(gha::parse_download_url("<html>proxy error</html>"), ServiceError);
  CHECK_THROWS_AS(gha::parse_create_entry("[1,2]"), ServiceError);
}

TEST_CASE("twirp error bodies") {
  auto e = gha::parse_twirp_error(R"({"code":"already_exists","msg":"cache entry with the same key"})");
  CHECK(e.code == "already_exists");
  CHECK(e.msg == "cache entry with the same key");
  e = gha::parse_twirp_error("Bad Gateway");
  CHECK(e.code.empty());
  CHECK(e.msg.empty());
}

TEST_CASE("block ids are base64 of a UUID and a 12-digit index, as the Azure SDK makes them") {
  // The example from a real upload (research/actions-cache.md §4.7).
  CHECK(gha::block_id("523cb069-d741-4112-8e72-dced6793d621", 3) ==
        "NTIzY2IwNjktZDc0MS00MTEyLThlNzItZGNlZDY3OTNkNjIxMDAwMDAwMDAwMDAz");
  const auto uuid = gha::random_uuid();
  REQUIRE(uuid.size() == 36);
  CHECK(uuid[8] == '-');
  CHECK(uuid[14] == '4');
  CHECK(gha::random_uuid() != uuid);
  for (uint64_t i : {0ull, 1ull, 49999ull, 999999999999ull})
    CHECK(gha::block_id(uuid, i).size() == 64); // Azure wants all ids of a blob the same length
  CHECK(gha::block_id(uuid, 1) != gha::block_id(uuid, 2));
  CHECK(gha::base64_encode("") == "");
  CHECK(gha::base64_encode("ab") == "YWI=");
}

TEST_CASE("the block list names the blocks in order") {
  CHECK(gha::block_list_xml({"QQ==", "Qg=="}) ==
        R"(<?xml version="1.0" encoding="utf-8"?><BlockList><Latest>QQ==</Latest><Latest>Qg==</Latest></BlockList>)");
}

TEST_CASE("Content-Range tells the blob's size") {
  auto r = gha::parse_content_range("bytes 0-1023/4096");
  REQUIRE(r);
  CHECK(r->first == 0);
  CHECK(r->last == 1023);
  CHECK(r->total == 4096);
  r = gha::parse_content_range(" bytes 4096-8191/10000000000 ");
  REQUIRE(r);
  CHECK(r->total == 10000000000ull);
  CHECK_FALSE(gha::parse_content_range("bytes 0-1023/*"));
  CHECK_FALSE(gha::parse_content_range("bytes */4096"));
  CHECK_FALSE(gha::parse_content_range("bytes 10-5/20"));
  CHECK_FALSE(gha::parse_content_range("bytes 0-20/20"));
  CHECK_FALSE(gha::parse_content_range(""));
}

TEST_CASE("signed URLs get more query parameters; their signature is masked") {
  CHECK(gha::with_query("https://a/b?sv=1&sig=x", "comp=block") == "https://a/b?sv=1&sig=x&comp=block");
  CHECK(gha::with_query("https://a/b", "comp=blocklist") == "https://a/b?comp=blocklist");
  CHECK(gha::with_query("https://a/b?", "comp=blocklist") == "https://a/b?comp=blocklist");
  gha::mask_signed_url("https://acct.blob.core.windows.net/c/b?sv=2022&sig=AbC%2BdEf%3D&se=1");
  const auto masked = log::mask("sig=AbC%2BdEf%3D and AbC+dEf=");
  CHECK(masked.find("AbC") == std::string::npos);
}

TEST_CASE("the results URL's origin is the twirp base; the path is dropped") {
  CHECK(results_origin("https://results-receiver.actions.githubusercontent.com/") ==
        "https://results-receiver.actions.githubusercontent.com");
  CHECK(results_origin("http://127.0.0.1:41234/some/path?q") == "http://127.0.0.1:41234");
  CHECK_THROWS_AS(results_origin("127.0.0.1:4"), UsageError);
  CHECK_THROWS_AS(results_origin("ftp://x/"), UsageError);
  CHECK_THROWS_AS(results_origin("https:///x"), UsageError);
  GithubSettings s;
  CHECK_THROWS_AS(validate(s), MissingCredentialsError);
  s.results_url = "https://r/";
  CHECK_THROWS_AS(validate(s), MissingCredentialsError);
  s.token = "t";
  CHECK_NOTHROW(validate(s));
}

namespace {
// The service's matching as the docs describe it: exact key, then key as a prefix (newest), then
// each restore key exact then prefix. Entries: key -> creation order.
struct FakeService {
  std::map<std::string, int> entries;
  std::vector<std::pair<std::string, std::vector<std::string>>> calls;

  std::optional<gha::ServiceMatch> find(const std::string &k) const {
    if (entries.count(k)) return gha::ServiceMatch{k, "url:" + k};
    const std::string *best = nullptr;
    int newest = -1;
    for (const auto &[key, created] : entries)
      if (key.starts_with(k) && created > newest) newest = created, best = &key;
    if (best) return gha::ServiceMatch{*best, "url:" + *best};
    return std::nullopt;
  }
  gha::ServiceQuery query() {
    return [this](const std::string &key, const std::vector<std::string> &restore_keys) {
      calls.emplace_back(key, restore_keys);
      if (auto m = find(key)) return m;
      for (const auto &rk : restore_keys)
        if (auto m = find(rk)) return m;
      return std::optional<gha::ServiceMatch>();
    };
  }
};
} // namespace

TEST_CASE("the primary key matches exactly: a decoy K-x never hits for K") {
  FakeService s;
  s.entries = {{"K-x", 1}};
  CHECK_FALSE(gha::lookup_via_service("K", {}, s.query()));
  CHECK(s.calls.size() == 1); // no restore keys: nothing to ask again

  s.calls.clear();
  auto hit = gha::lookup_via_service("K", {"K"}, s.query());
  REQUIRE(hit); // ... but a restore key may match by prefix
  CHECK(hit->match.matched_key == "K-x");
  CHECK_FALSE(hit->exact);
  REQUIRE(s.calls.size() == 2);
  CHECK(s.calls[1].first == "K");
  CHECK(s.calls[1].second.empty());

  s.entries["K"] = 0;
  s.calls.clear();
  hit = gha::lookup_via_service("K", {"K"}, s.query());
  REQUIRE(hit);
  CHECK(hit->match.matched_key == "K");
  CHECK(hit->exact);
  CHECK(s.calls.size() == 1);
}

TEST_CASE("after a prefix answer, the restore keys are asked in order, exact before prefix") {
  FakeService s;
  s.entries = {{"deps-abc-decoy", 5}, {"deps-", 1}, {"deps-old", 2}, {"other-1", 3}};
  auto hit = gha::lookup_via_service("deps-abc", {"deps-", "other-"}, s.query());
  REQUIRE(hit);
  CHECK(hit->match.matched_key == "deps-"); // the restore key's exact match beats its newer prefix matches
  REQUIRE(s.calls.size() == 2);
  CHECK(s.calls[1].first == "deps-");
  CHECK(s.calls[1].second == std::vector<std::string>{"other-"});

  s.calls.clear();
  hit = gha::lookup_via_service("zzz", {"nothing-", "other-"}, s.query());
  REQUIRE(hit);
  CHECK(hit->match.matched_key == "other-1");
  CHECK(s.calls.size() == 1); // not a prefix of the primary key: the service's answer stands
}

TEST_CASE("an answer that equals the primary key but for case is not an exact hit") {
  gha::ServiceQuery q = [](const std::string &key, const std::vector<std::string> &) {
    return std::optional<gha::ServiceMatch>(gha::ServiceMatch{key == "Key" ? "KEY" : "key-1", "u"});
  };
  auto hit = gha::lookup_via_service("Key", {"key-"}, q);
  REQUIRE(hit);
  CHECK(hit->match.matched_key == "key-1");
  CHECK_FALSE(hit->exact);
  CHECK_FALSE(gha::lookup_via_service("Key", {}, q));
}
