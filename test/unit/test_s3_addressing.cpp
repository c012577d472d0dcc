#include "http/uri.hpp"
#include "storage/s3_layout.hpp"
#include "storage/s3_settings.hpp"
#include "storage/s3_upload.hpp"
#include "storage/s3_xml.hpp"
#include "util/error.hpp"

#include <catch2/catch.hpp>
#include <map>

using namespace cachekit;
using namespace cachekit::storage;

namespace {
S3Settings with_endpoint(std::string endpoint) {
  S3Settings s;
  s.endpoint = std::move(endpoint);
  s.bucket = "cache";
  return s;
}
} // namespace

TEST_CASE("URI encoding keeps only unreserved characters, upper-case hex") {
  CHECK(http::uri_encode("a-b_c.d~e09AZ", false) == "a-b_c.d~e09AZ");
  CHECK(http::uri_encode("a b+c=d&e", false) == "a%20b%2Bc%3Dd%26e");
  CHECK(http::uri_encode("refs/heads/main", false) == "refs%2Fheads%2Fmain");
  CHECK(http::uri_encode("refs/heads/main", true) == "refs/heads/main");
  CHECK(http::uri_encode("test$file.text", true) == "test%24file.text");
  CHECK(http::uri_encode("\xc3\xa9", true) == "%C3%A9"); // UTF-8 bytes, not the code point
  CHECK(http::uri_encode("!'()*", true) == "%21%27%28%29%2A");
  CHECK(http::percent_decode("a%20b%2Fc+d%zz") == "a b/c+d%zz");
}

TEST_CASE("query strings are canonical: encoded, sorted, bare flags as name=") {
  http::Query q;
  q.add("prefix", "acme/widgets/refs/heads/main/").add("list-type", "2").add("max-keys", "1000");
  CHECK(q.canonical() == "list-type=2&max-keys=1000&prefix=acme%2Fwidgets%2Frefs%2Fheads%2Fmain%2F");
  http::Query uploads;
  uploads.add("uploads");
  CHECK(uploads.canonical() == "uploads=");
  http::Query part;
  part.add("uploadId", "2~a/b+c==").add("partNumber", "12");
  CHECK(part.canonical() == "partNumber=12&uploadId=2~a%2Fb%2Bc%3D%3D");
  http::Query token;
  token.add("continuation-token", "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=").add("list-type", "2");
  CHECK(token.canonical() == "continuation-token=1ueGcxLPRx1Tr%2FXYExHnhbYLgveDs2J%2Fwm36Hy4vbOwM%3D&list-type=2");
  CHECK(http::Query().canonical().empty());
}

TEST_CASE("an endpoint given as a bare host means https and, off AWS, path-style") {
  const auto e = resolve_endpoint(with_endpoint("s3.hz.example.org"));
  CHECK(e.scheme == "https");
  CHECK(e.host == "s3.hz.example.org");
  CHECK(e.port.empty());
  CHECK(e.path_style);
  CHECK(e.url("cache", "a/b c", "") == "https://s3.hz.example.org/cache/a/b%20c");
  CHECK(e.url("cache", "", "list-type=2") == "https://s3.hz.example.org/cache/?list-type=2");
}

TEST_CASE("insecure switches a bare host to http; a URL's scheme is explicit too") {
  auto s = with_endpoint("s3.example.org:8080");
  s.insecure = true;
  const auto e = resolve_endpoint(s);
  CHECK(e.origin() == "http://s3.example.org:8080");
  CHECK(resolve_endpoint(with_endpoint("http://127.0.0.1:7480")).origin() == "http://127.0.0.1:7480");
  auto conflict = with_endpoint("https://s3.example.org");
  conflict.insecure = true;
  CHECK_THROWS_AS(resolve_endpoint(conflict), UsageError);
  auto agree = with_endpoint("http://s3.example.org");
  agree.insecure = true;
  CHECK(resolve_endpoint(agree).scheme == "http");
  auto action_default = with_endpoint("http://rgw.local:7480"); // actions pass insecure=false by default
  action_default.insecure = false;
  CHECK(resolve_endpoint(action_default).origin() == "http://rgw.local:7480");
}

TEST_CASE("IPs and localhost are always path-style; AWS defaults to virtual-host") {
  CHECK(resolve_endpoint(with_endpoint("http://127.0.0.1:7480")).path_style);
  CHECK(resolve_endpoint(with_endpoint("localhost:9000")).path_style);
  CHECK(resolve_endpoint(with_endpoint("[::1]:9000")).path_style);
  CHECK(resolve_endpoint(with_endpoint("[::1]:9000")).port == "9000");
  const auto aws = resolve_endpoint(with_endpoint("s3.eu-west-1.amazonaws.com"));
  CHECK_FALSE(aws.path_style);
  CHECK(aws.url("cache", "k/archive.tzst", "") == "https://cache.s3.eu-west-1.amazonaws.com/k/archive.tzst");
  CHECK(aws.url("cache", "", "list-type=2") == "https://cache.s3.eu-west-1.amazonaws.com/?list-type=2");

  auto forced = with_endpoint("s3.example.org");
  forced.path_style = false;
  CHECK(resolve_endpoint(forced).url("cache", "x", "") == "https://cache.s3.example.org/x");
  auto impossible = with_endpoint("127.0.0.1:7480");
  impossible.path_style = false;
  CHECK_THROWS_AS(resolve_endpoint(impossible), UsageError);
  auto vhost_local = with_endpoint("http://s3.localhost:7480"); // curl resolves *.localhost itself
  vhost_local.path_style = false;
  CHECK(resolve_endpoint(vhost_local).url("cache", "k", "") == "http://cache.s3.localhost:7480/k");
}

TEST_CASE("an empty endpoint means AWS in the region") {
  S3Settings s;
  s.bucket = "b";
  CHECK(resolve_endpoint(s).origin() == "https://s3.amazonaws.com");
  s.region = "eu-central-1";
  const auto e = resolve_endpoint(s);
  CHECK(e.origin() == "https://s3.eu-central-1.amazonaws.com");
  CHECK_FALSE(e.path_style);
}

TEST_CASE("an endpoint URL may carry a base path; junk is refused") {
  const auto e = resolve_endpoint(with_endpoint("https://gw.example.org/s3/"));
  CHECK(e.base_path == "/s3");
  CHECK(e.url("cache", "k", "") == "https://gw.example.org/s3/cache/k");
  CHECK_THROWS_AS(resolve_endpoint(with_endpoint("ftp://x")), UsageError);
  CHECK_THROWS_AS(resolve_endpoint(with_endpoint("host:99999")), UsageError);
  CHECK_THROWS_AS(resolve_endpoint(with_endpoint("host:http")), UsageError);
  CHECK_THROWS_AS(resolve_endpoint(with_endpoint("https://")), UsageError);
  CHECK_THROWS_AS(resolve_endpoint(with_endpoint("user:pw@host")), UsageError);
}

TEST_CASE("credentials: inputs first, ambient AWS_* only when both inputs are empty") {
  std::map<std::string, std::string> env{
      {"AWS_ACCESS_KEY_ID", "ENVAK"}, {"AWS_SECRET_ACCESS_KEY", "envsecret"}, {"AWS_SESSION_TOKEN", "envtoken"}};
  auto getenv = [&](const char *name) -> std::optional<std::string> {
    auto it = env.find(name);
    return it == env.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
  S3Settings s;
  s.access_key = "INAK";
  s.secret_key = "insecret";
  auto c = resolve_credentials(s, getenv);
  CHECK(c.access_key == "INAK");
  CHECK(c.secret_key == "insecret");
  CHECK(c.session_token.empty()); // the ambient token belongs to the ambient keys
  CHECK(c.source.find("inputs") != std::string::npos);

  S3Settings empty;
  c = resolve_credentials(empty, getenv);
  CHECK(c.access_key == "ENVAK");
  CHECK(c.secret_key == "envsecret");
  CHECK(c.session_token == "envtoken");
  CHECK(c.source.find("AWS_ACCESS_KEY_ID") != std::string::npos);

  S3Settings half;
  half.access_key = "INAK";
  CHECK_THROWS_AS(resolve_credentials(half, getenv), UsageError);
  env.clear();
  CHECK_THROWS_AS(resolve_credentials(empty, getenv), UsageError);
}

TEST_CASE("settings are range-checked") {
  S3Settings s;
  s.bucket = "b";
  CHECK_NOTHROW(validate(s));
  s.part_size = 1 << 20;
  CHECK_THROWS_AS(validate(s), UsageError);
  s.part_size = kMinPartSize;
  s.concurrency = 0;
  CHECK_THROWS_AS(validate(s), UsageError);
  s.concurrency = 4;
  s.bucket = "";
  CHECK_THROWS_AS(validate(s), UsageError);
  s.bucket = "b";
  s.prefix = "a/../b";
  CHECK_THROWS_AS(validate(s), UsageError);
}

TEST_CASE("object names carry prefix, repository, ref, version and key") {
  const S3Layout layout("/cachekit/");
  CHECK(layout.base() == "cachekit/");
  const auto dir = layout.entry_dir("acme/widgets", "refs/heads/main", "abc123", "Linux-go-K");
  CHECK(dir == "cachekit/acme/widgets/refs/heads/main/abc123/Linux-go-K/");
  CHECK(S3Layout::manifest_name(dir) == dir + "manifest.json");
  const auto archive = S3Layout::new_archive_name(dir);
  CHECK(archive.starts_with(dir + "archive-"));
  CHECK(S3Layout::is_archive(archive));
  CHECK(archive != S3Layout::new_archive_name(dir)); // racing writers never share a name
  CHECK(S3Layout::dir_of(archive) == dir);
  const auto marker = layout.last_used_name(dir);
  CHECK(marker == "cachekit/_last-used/acme/widgets/refs/heads/main/abc123/Linux-go-K/last-used");
  CHECK(layout.entry_dir_of_marker(marker) == dir);
  CHECK_FALSE(layout.entry_dir_of_marker(dir + "manifest.json"));

  const S3Layout root("");
  CHECK(root.entry_dir("o/r", "refs/pull/7/merge", "v", "k") == "o/r/refs/pull/7/merge/v/k/");
  CHECK(root.last_used_name("o/r/refs/pull/7/merge/v/k/") == "_last-used/o/r/refs/pull/7/merge/v/k/last-used");
}

TEST_CASE("keys are read back from manifest names exactly, decoys included") {
  const std::string scope = "p/o/r/refs/heads/main/v/";
  CHECK(S3Layout::key_of_manifest(scope, scope + "K/manifest.json") == "K");
  CHECK(S3Layout::key_of_manifest(scope, scope + "K-x/manifest.json") == "K-x");
  CHECK(S3Layout::key_of_manifest(scope, scope + "a/b/manifest.json") == "a/b");
  CHECK_FALSE(S3Layout::key_of_manifest(scope, scope + "K/archive-00.tzst"));
  CHECK_FALSE(S3Layout::key_of_manifest(scope, "p/o/r/refs/heads/dev/v/K/manifest.json"));
  CHECK(S3Layout::legacy_archive_name("K") == "K/cache.tzst");
  CHECK(S3Layout::key_of_legacy_archive("Linux-go-v1-abc/cache.tzst") == "Linux-go-v1-abc");
  CHECK_FALSE(S3Layout::key_of_legacy_archive("Linux-go-v1-abc/cache.tgz"));
}

TEST_CASE("names that could cross scopes are refused") {
  const S3Layout layout("x");
  CHECK_THROWS_AS(layout.entry_dir("widgets", "refs/heads/main", "v", "k"), UsageError);
  CHECK_THROWS_AS(layout.entry_dir("a/b/c", "refs/heads/main", "v", "k"), UsageError);
  CHECK_THROWS_AS(layout.entry_dir("a/b", "refs/heads/../main", "v", "k"), UsageError);
  CHECK_THROWS_AS(layout.entry_dir("a/b", "refs//main", "v", "k"), UsageError);
  CHECK_THROWS_AS(layout.entry_dir("a/b", "", "v", "k"), UsageError);
  CHECK_THROWS_AS(layout.entry_dir("a/b", "refs/heads/main", "v", std::string(1000, 'k')), UsageError);
}

TEST_CASE("ListObjectsV2 pages parse, with entities and continuation") {
  const std::string xml = R"(<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Prefix>p/</Prefix>
<KeyCount>2</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>true</IsTruncated>
<Contents><Key>p/a &amp; b/manifest.json</Key><LastModified>2026-11-23T11:35:00.123Z</LastModified>
<ETag>&quot;abc&quot;</ETag><Size>42</Size><StorageClass>STANDARD</StorageClass></Contents>
<Contents><Key>p/x/archive-1.tzst</Key><LastModified>2026-11-23T11:35:01Z</LastModified><Size>1234567890123</Size></Contents>
<NextContinuationToken>tok/en=</NextContinuationToken></ListBucketResult>)";
  const auto page = s3xml::parse_list_objects_v2(xml);
  REQUIRE(page.objects.size() == 2);
  CHECK(page.objects[0].name == "p/a & b/manifest.json");
  CHECK(page.objects[0].size == 42);
  CHECK(page.objects[0].last_modified_ms == 1795433700123);
  CHECK(page.objects[1].size == 1234567890123ull);
  CHECK(page.objects[1].last_modified_ms == 1795433701000);
  CHECK(page.truncated);
  CHECK(page.next_token == "tok/en=");

  const auto last =
      s3xml::parse_list_objects_v2("<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>");
  CHECK(last.objects.empty());
  CHECK_FALSE(last.truncated);
  CHECK_THROWS_AS(s3xml::parse_list_objects_v2("<Error><Code>AccessDenied</Code></Error>"), OperationError);
}

TEST_CASE("multipart listings, errors and entities parse") {
  const std::string xml = R"(<ListMultipartUploadsResult><Bucket>b</Bucket><KeyMarker></KeyMarker>
<NextKeyMarker>k2</NextKeyMarker><NextUploadIdMarker>id2</NextUploadIdMarker><IsTruncated>true</IsTruncated>
<Upload><Key>k1/archive-1.tzst</Key><UploadId>2~abc</UploadId><Initiator><ID>x</ID></Initiator>
<Initiated>2026-01-02T03:04:05.000Z</Initiated></Upload></ListMultipartUploadsResult>)";
  const auto page = s3xml::parse_list_multipart_uploads(xml);
  REQUIRE(page.uploads.size() == 1);
  CHECK(page.uploads[0].name == "k1/archive-1.tzst");
  CHECK(page.uploads[0].upload_id == "2~abc");
  CHECK(page.uploads[0].initiated_ms == 1767323045000);
  CHECK(page.next_key_marker == "k2");
  CHECK(page.next_upload_id_marker == "id2");

  CHECK(s3xml::error_code("<?xml version=\"1.0\"?><Error><Code>NoSuchBucket</Code><Message></Message></Error>") ==
        "NoSuchBucket");
  CHECK(s3xml::error_code("").empty());
  CHECK(s3xml::error_code("<html>bad gateway</html>").empty());
  CHECK(s3xml::decode_entities("&lt;&#65;&#x42;&gt;&bogus;") == "<AB>&bogus;");
  CHECK(s3xml::escape("\"a\"&<b>") == "&quot;a&quot;&amp;&lt;b&gt;");
  CHECK_FALSE(s3xml::parse_timestamp_ms("yesterday"));
}

TEST_CASE("multipart part sizes grow so any archive fits in 10000 parts") {
  const uint64_t base = 16ull << 20;
  CHECK(S3EntryWriter::part_size_for(base, 1) == base);
  CHECK(S3EntryWriter::part_size_for(base, 1000) == base);
  CHECK(S3EntryWriter::part_size_for(base, 1001) == 2 * base);
  CHECK(S3EntryWriter::part_size_for(base, 9999) == (4ull << 30));
  uint64_t total = 0;
  for (int n = 1; n <= 10000; ++n)
    total += S3EntryWriter::part_size_for(base, n);
  CHECK(total > (5ull << 40)); // > 5 TiB, S3's object size limit
}
