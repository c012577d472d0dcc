#pragma once
// One Azure block blob behind a signed (SAS) URL, as the GitHub cache service hands them out:
// the requests @actions/cache's Azure SDK makes, over http::Client. The URL carries the
// authorisation; no Authorization header is ever sent to the blob host.
//   Put Blob        PUT <url> x-ms-blob-type: BlockBlob            (archives of at most one block)
//   Put Block       PUT <url>&comp=block&blockid=<base64 id>       (larger: several in flight …)
//   Put Block List  PUT <url>&comp=blocklist  <BlockList>…         (… then committed in order)
//   Get Blob        GET <url> x-ms-range: bytes=a-b                (parallel ranges, resumed)
#include "http/client.hpp"

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace cachekit::storage::gha {

inline constexpr char kAzureApiVersion[] = "2023-11-03";

// Block ids as the Azure SDK makes them: base64 of a 36-character UUID followed by the block
// index zero-padded to 12 digits (always 64 characters).
std::string block_id(std::string_view uuid, uint64_t index);
std::string random_uuid();
std::string block_list_xml(const std::vector<std::string> &block_ids);
std::string base64_encode(std::string_view data);

// "bytes 0-1023/4096" -> {0, 1023, 4096}; a total of "*" or anything unparsable -> nullopt.
struct ContentRange {
  uint64_t first = 0;
  uint64_t last = 0;
  uint64_t total = 0;
};
std::optional<ContentRange> parse_content_range(std::string_view value);

// `url` plus extra query parameters (already encoded), whether or not it has a query yet.
std::string with_query(const std::string &url, const std::string &extra);

class BlobClient {
public:
  // `first_policy` is used for the first request of a transfer (it may not retry an
  // unreachable host: a runner without egress to the blob host should fail in seconds),
  // `policy` for the others.
  BlobClient(http::Client &http, std::string signed_url, http::RetryPolicy policy, http::RetryPolicy first_policy);

  void put_blob(std::span<const std::byte> data);
  void put_block(const std::string &id, std::span<const std::byte> data, bool first, const std::atomic<bool> *cancel);
  void put_block_list(const std::vector<std::string> &ids);

  // Streams bytes [first, last] into `sink`, resuming after a dropped or stalled connection
  // from the last byte received. `on_total` (optional) learns the blob's size from the first
  // answer's Content-Range; when the blob ends before `last`, fewer bytes arrive (the caller
  // knows the size by then). Throws IntegrityError when the blob is shorter than `first`.
  void get_range(uint64_t first, uint64_t last, bool first_request,
                 const std::function<void(std::span<const std::byte>)> &sink,
                 const std::function<void(uint64_t total)> &on_total, const std::atomic<bool> *cancel);

  std::string describe() const; // the URL without its query (no signature)

private:
  [[noreturn]] void fail(const http::Response &r, const std::string &operation) const;

  http::Client &http_;
  std::string url_;
  http::RetryPolicy policy_;
  http::RetryPolicy first_policy_;
};

} // namespace cachekit::storage::gha
