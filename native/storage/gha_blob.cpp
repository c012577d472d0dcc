#include "storage/gha_blob.hpp"

#include "http/uri.hpp"
#include "util/error.hpp"
#include "util/strings.hpp"

#include <charconv>
#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

namespace cachekit::storage::gha {
namespace {

std::optional<uint64_t> parse_u64(std::string_view s) {
  uint64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

bool created(long status) {
  return status == 201 || status == 200;
}

} // namespace

std::string base64_encode(std::string_view data) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char *>(out.data()),
                                reinterpret_cast<const unsigned char *>(data.data()), static_cast<int>(data.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::string random_uuid() {
  unsigned char b[16];
  if (RAND_bytes(b, sizeof b) != 1) throw OperationError("cannot make random bytes for a block id");
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40); // version 4
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80); // variant 1
  return fmt::format(
      "{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}", b[0],
      b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

std::string block_id(std::string_view uuid, uint64_t index) {
  return base64_encode(fmt::format("{}{:012d}", uuid, index));
}

std::string block_list_xml(const std::vector<std::string> &block_ids) {
  std::string xml = R"(<?xml version="1.0" encoding="utf-8"?><BlockList>)";
  for (const auto &id : block_ids)
    xml += "<Latest>" + id + "</Latest>"; // base64: nothing to escape
  xml += "</BlockList>";
  return xml;
}

std::optional<ContentRange> parse_content_range(std::string_view value) {
  auto v = trim(value);
  if (!v.starts_with("bytes ")) return std::nullopt;
  v = trim(std::string_view(v).substr(6));
  const auto dash = v.find('-');
  const auto slash = v.find('/');
  if (dash == std::string::npos || slash == std::string::npos || dash > slash) return std::nullopt;
  const auto first = parse_u64(std::string_view(v).substr(0, dash));
  const auto last = parse_u64(std::string_view(v).substr(dash + 1, slash - dash - 1));
  const auto total = parse_u64(std::string_view(v).substr(slash + 1));
  if (!first || !last || !total || *first > *last || *last >= *total) return std::nullopt;
  return ContentRange{*first, *last, *total};
}

std::string with_query(const std::string &url, const std::string &extra) {
  if (extra.empty()) return url;
  const auto q = url.find('?');
  if (q == std::string::npos) return url + "?" + extra;
  if (q + 1 == url.size() || url.back() == '&') return url + extra;
  return url + "&" + extra;
}

BlobClient::BlobClient(http::Client &http, std::string signed_url, http::RetryPolicy policy,
                       http::RetryPolicy first_policy)
    : http_(http), url_(std::move(signed_url)), policy_(policy), first_policy_(first_policy) {}

std::string BlobClient::describe() const {
  return url_.substr(0, url_.find('?'));
}

void BlobClient::fail(const http::Response &r, const std::string &operation) const {
  const auto code = r.header("x-ms-error-code").value_or("");
  const auto status = code.empty() ? fmt::format("HTTP {}", r.status) : fmt::format("HTTP {} {}", r.status, code);
  const auto tries = r.attempts > 1 ? fmt::format(" (after {} attempts)", r.attempts) : std::string();
  const auto why = r.status == 403 ? ": the signed URL was refused (expired or altered)" : std::string();
  throw ServiceError(fmt::format("GitHub cache blob {} {} failed: {}{}{}", operation, describe(), status, tries, why));
}

void BlobClient::put_blob(std::span<const std::byte> data) {
  http::Request request;
  request.method = "PUT";
  request.url = url_;
  request.headers = {{"x-ms-blob-type", "BlockBlob"},
                     {"x-ms-version", kAzureApiVersion},
                     {"Content-Type", "application/octet-stream"}};
  request.body = data;
  const auto r = http_.send(request, first_policy_, "GitHub cache blob PUT " + describe());
  if (!created(r.status)) fail(r, "PUT");
}

void BlobClient::put_block(const std::string &id, std::span<const std::byte> data, bool first,
                           const std::atomic<bool> *cancel) {
  http::Request request;
  request.method = "PUT";
  request.url = with_query(url_, "comp=block&blockid=" + http::uri_encode(id, false));
  request.headers = {{"x-ms-version", kAzureApiVersion}};
  request.body = data;
  request.cancel = cancel;
  const auto r = http_.send(request, first ? first_policy_ : policy_, "GitHub cache Put Block " + describe());
  if (!created(r.status)) fail(r, "Put Block");
}

void BlobClient::put_block_list(const std::vector<std::string> &ids) {
  const auto xml = block_list_xml(ids);
  http::Request request;
  request.method = "PUT";
  request.url = with_query(url_, "comp=blocklist");
  request.headers = {{"x-ms-version", kAzureApiVersion}, {"Content-Type", "application/xml"}};
  request.body = std::as_bytes(std::span(xml.data(), xml.size()));
  const auto r = http_.send(request, policy_, "GitHub cache Put Block List " + describe());
  if (!created(r.status)) fail(r, "Put Block List");
}

void BlobClient::get_range(uint64_t first, uint64_t last, bool first_request,
                           const std::function<void(std::span<const std::byte>)> &sink,
                           const std::function<void(uint64_t total)> &on_total, const std::atomic<bool> *cancel) {
  uint64_t received = 0;         // survives attempts: a retry asks only for what is still missing
  std::optional<uint64_t> total; // from the first answer
  const auto what = fmt::format("GitHub cache blob GET {} bytes {}-{}", describe(), first, last);
  auto end = [&] { return total ? std::min(last + 1, *total) : last + 1; }; // one past the last byte wanted
  auto make_request = [&] {
    http::Request request;
    request.method = "GET";
    request.url = url_;
    request.headers = {{"x-ms-range", fmt::format("bytes={}-{}", first + received, end() - 1)},
                       {"x-ms-version", kAzureApiVersion}};
    request.cancel = cancel;
    request.on_headers = [&](const http::Response &response) {
      const uint64_t at = first + received;
      uint64_t size = 0;
      if (response.status == 206) {
        const auto range = parse_content_range(response.header("content-range").value_or(""));
        if (!range || range->first != at)
          throw ServiceError(fmt::format("{}: the answer's Content-Range ({}) is not the range asked for", what,
                                         response.header("content-range").value_or("none")));
        size = range->total;
      } else {
        // The whole blob (the Range header was ignored): usable only from its start.
        const auto length = parse_u64(response.header("content-length").value_or(""));
        if (at != 0 || !length)
          throw ServiceError(fmt::format("{}: the server ignored the Range header (HTTP {})", what, response.status));
        size = *length;
      }
      if (!total) {
        total = size;
        if (on_total) on_total(size);
      }
    };
    request.on_body = [&](std::span<const std::byte> data) {
      if (first + received + data.size() > end())
        throw ServiceError(fmt::format("{}: the server sent more bytes than asked for", what));
      sink(data);
      received += data.size();
    };
    return request;
  };
  const auto r = http_.send(make_request, first_request ? first_policy_ : policy_, what);
  if (r.status == 206 || r.status == 200) {
    if (first + received != end())
      throw IntegrityError(fmt::format("{}: got {} of {} bytes", what, received, end() - first));
    return;
  }
  if (r.status == 416) throw IntegrityError(fmt::format("{}: the blob is shorter than that", what));
  if (r.status == 404) throw IntegrityError(fmt::format("the blob {} is missing", describe()));
  fail(r, "GET");
}

} // namespace cachekit::storage::gha
