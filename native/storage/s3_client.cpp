#include "storage/s3_client.hpp"

#include "util/error.hpp"
#include "util/log.hpp"

#include <fmt/format.h>

namespace cachekit::storage {
namespace {

std::span<const std::byte> bytes_of(std::string_view s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}

http::ClientOptions client_options(const S3Settings &s, const S3Credentials &c) {
  http::ClientOptions o;
  o.connect_timeout = std::chrono::seconds(s.connect_timeout_seconds);
  o.stall_timeout = std::chrono::seconds(s.stall_timeout_seconds);
  o.sigv4 = http::SigV4Credentials{c.access_key, c.secret_key, c.session_token, s.region, "s3"};
  o.error_code = [](std::string_view body) { return s3xml::error_code(body); };
  return o;
}

} // namespace

S3Client::S3Client(const S3Settings &settings, S3Credentials credentials)
    : settings_(settings), endpoint_(resolve_endpoint(settings)), credentials_(std::move(credentials)),
      policy_(settings.retry_count), http_(client_options(settings_, credentials_)) {
  // Secrets would otherwise be copied around; only the credentials_ copy is kept.
  settings_.secret_key.clear();
  settings_.session_token.clear();
}

std::string S3Client::describe(const std::string &object_name) const {
  return fmt::format("s3://{}/{}", settings_.bucket, object_name);
}

http::Response S3Client::send(const std::string &method, const std::string &object_name, const http::Query &query,
                              std::span<const std::byte> body, std::vector<std::pair<std::string, std::string>> headers,
                              http::Payload payload, const std::string &what, const std::atomic<bool> *cancel) {
  http::Request request;
  request.method = method;
  request.url = endpoint_.url(settings_.bucket, object_name, query.canonical());
  request.headers = std::move(headers);
  request.body = body;
  request.payload = payload;
  request.cancel = cancel;
  return http_.send(request, policy_, what);
}

void S3Client::fail(const http::Response &r, const std::string &operation, const std::string &object_name) const {
  const auto code = s3xml::error_code(r.body);
  const auto where = describe(object_name);
  const auto tries = r.attempts > 1 ? fmt::format(" (after {} attempts)", r.attempts) : std::string();
  const auto status = code.empty() ? fmt::format("HTTP {}", r.status) : fmt::format("HTTP {} {}", r.status, code);
  std::string why;
  bool configuration = true; // no retry and no other backend can fix it: never hidden by a fallback
  if (code == "SignatureDoesNotMatch")
    why = fmt::format("the secret key does not match access key '{}' (credentials from {}), or the request was "
                      "altered on the way",
                      credentials_.access_key, credentials_.source);
  else if (code == "InvalidAccessKeyId")
    why = fmt::format("the server does not know access key '{}' (credentials from {})", credentials_.access_key,
                      credentials_.source);
  else if (code == "ExpiredToken" || code == "InvalidToken" || code == "TokenRefreshRequired")
    why = "the session token is expired or invalid";
  else if (code == "RequestTimeTooSkewed")
    why = "this machine's clock is too far from the server's";
  else if (code == "NoSuchBucket")
    why = fmt::format("bucket '{}' does not exist at {}", settings_.bucket, endpoint_.origin());
  else if (code == "AuthorizationHeaderMalformed" || code == "PermanentRedirect" || r.status == 301)
    why = fmt::format("the bucket is not in region '{}' or not at this endpoint; check region and endpoint",
                      settings_.region);
  else if (code == "AccessDenied" || r.status == 403)
    why = fmt::format("access denied to {} for access key '{}': check the credentials and the bucket policy "
                      "(jobs may write only below their own ref)",
                      where, credentials_.access_key);
  else if (r.status == 401)
    why = "the server refused the credentials";
  else {
    configuration = false;
    if (code == "EntityTooSmall") why = "a multipart part was smaller than the server's minimum part size";
  }
  const auto message = why.empty() ? fmt::format("S3 {} {} failed: {}{}", operation, where, status, tries)
                                   : fmt::format("S3 {} {} failed: {}{}: {}", operation, where, status, tries, why);
  if (configuration) throw ConfigurationError(message);
  throw ServiceError(message); // 5xx after the retries, or an answer we cannot use
}

std::optional<std::string> S3Client::get_object(const std::string &name) {
  auto r = send("GET", name, {}, {}, {}, http::Payload::Signed, "S3 GET " + describe(name));
  if (r.status == 200) return std::move(r.body);
  if (r.status == 404 && s3xml::error_code(r.body) != "NoSuchBucket") return std::nullopt;
  fail(r, "GET", name);
}

void S3Client::put_object(const std::string &name, std::span<const std::byte> body, http::Payload payload) {
  auto r = send("PUT", name, {}, body, {}, payload, "S3 PUT " + describe(name));
  if (r.status != 200) fail(r, "PUT", name);
}

bool S3Client::put_object_if_absent(const std::string &name, std::string_view body) {
  auto r = send("PUT", name, {}, bytes_of(body), {{"If-None-Match", "*"}}, http::Payload::Signed,
                "S3 PUT " + describe(name));
  if (r.status == 200) return true;
  if (r.status == 412) {
    // A retry may meet the object its own lost-answer attempt created: that is ours.
    if (r.attempts > 1) {
      const auto existing = get_object(name);
      if (existing && *existing == body) return true;
    }
    return false;
  }
  if (r.status == 409 && s3xml::error_code(r.body) == "ConditionalRequestConflict") return false;
  fail(r, "PUT (if absent)", name);
}

void S3Client::delete_object(const std::string &name) {
  auto r = send("DELETE", name, {}, {}, {}, http::Payload::Signed, "S3 DELETE " + describe(name));
  if (r.status == 204 || r.status == 200) return;
  if (r.status == 404 && s3xml::error_code(r.body) != "NoSuchBucket") return;
  fail(r, "DELETE", name);
}

void S3Client::list_objects(const std::string &prefix,
                            const std::function<void(std::vector<s3xml::ListedObject> &&)> &on_page) {
  std::string token;
  for (int page = 1;; ++page) {
    http::Query q;
    q.add("list-type", "2").add("prefix", prefix).add("max-keys", "1000");
    if (!token.empty()) q.add("continuation-token", token);
    const auto what = fmt::format("S3 list {} (page {})", describe(prefix), page);
    auto r = send("GET", "", q, {}, {}, http::Payload::Signed, what);
    if (r.status != 200) fail(r, "list", prefix);
    auto parsed = s3xml::parse_list_objects_v2(r.body);
    on_page(std::move(parsed.objects));
    if (!parsed.truncated) return;
    if (parsed.next_token.empty() || parsed.next_token == token)
      throw ServiceError(fmt::format("S3 list {}: the server said the listing continues but gave no new "
                                     "continuation token",
                                     describe(prefix)));
    token = std::move(parsed.next_token);
  }
}

std::vector<s3xml::ListedObject> S3Client::list_objects(const std::string &prefix) {
  std::vector<s3xml::ListedObject> all;
  list_objects(prefix, [&](std::vector<s3xml::ListedObject> &&page) {
    all.insert(all.end(), std::make_move_iterator(page.begin()), std::make_move_iterator(page.end()));
  });
  return all;
}

std::string S3Client::create_multipart_upload(const std::string &name) {
  http::Query q;
  q.add("uploads");
  auto r = send("POST", name, q, {}, {{"Content-Type", "application/octet-stream"}}, http::Payload::Signed,
                "S3 create multipart upload " + describe(name));
  if (r.status != 200) fail(r, "create multipart upload", name);
  auto id = s3xml::text(r.body, "UploadId");
  if (!id || id->empty())
    throw ServiceError(fmt::format("S3 create multipart upload {}: no UploadId in the answer", describe(name)));
  return *id;
}

std::string S3Client::upload_part(const std::string &name, const std::string &upload_id, int part_number,
                                  std::span<const std::byte> data, const std::atomic<bool> *cancel) {
  http::Query q;
  q.add("partNumber", std::to_string(part_number)).add("uploadId", upload_id);
  // The archive's sha256 is checked end to end by the engine; hashing every part again
  // for the signature would cost a core for nothing.
  auto r = send("PUT", name, q, data, {}, http::Payload::Unsigned,
                fmt::format("S3 upload part {} of {}", part_number, describe(name)), cancel);
  if (r.status != 200) fail(r, fmt::format("upload part {}", part_number), name);
  auto etag = r.header("etag");
  if (!etag || etag->empty())
    throw ServiceError(fmt::format("S3 upload part {} of {}: no ETag in the answer", part_number, describe(name)));
  return *etag;
}

void S3Client::complete_multipart_upload(const std::string &name, const std::string &upload_id,
                                         const std::vector<std::string> &etags) {
  std::string xml = "<CompleteMultipartUpload>";
  for (size_t i = 0; i < etags.size(); ++i)
    xml += fmt::format("<Part><PartNumber>{}</PartNumber><ETag>{}</ETag></Part>", i + 1, s3xml::escape(etags[i]));
  xml += "</CompleteMultipartUpload>";
  http::Query q;
  q.add("uploadId", upload_id);
  auto r = send("POST", name, q, bytes_of(xml), {{"Content-Type", "application/xml"}}, http::Payload::Signed,
                "S3 complete multipart upload " + describe(name));
  // 200 can still carry an <Error> (the server failed after it started answering). A retry
  // after a lost answer finds the upload gone (NoSuchUpload): the object then exists.
  if (r.status == 200 && s3xml::error_code(r.body).empty()) return;
  if (r.attempts > 1 && s3xml::error_code(r.body) == "NoSuchUpload") return;
  fail(r, "complete multipart upload", name);
}

void S3Client::abort_multipart_upload(const std::string &name, const std::string &upload_id) {
  http::Query q;
  q.add("uploadId", upload_id);
  auto r = send("DELETE", name, q, {}, {}, http::Payload::Signed, "S3 abort multipart upload " + describe(name));
  if (r.status == 204 || r.status == 200 || r.status == 404) return;
  fail(r, "abort multipart upload", name);
}

std::vector<s3xml::ListedUpload> S3Client::list_multipart_uploads(const std::string &prefix) {
  std::vector<s3xml::ListedUpload> all;
  std::string key_marker, id_marker;
  for (;;) {
    http::Query q;
    q.add("uploads").add("prefix", prefix);
    if (!key_marker.empty()) q.add("key-marker", key_marker);
    if (!id_marker.empty()) q.add("upload-id-marker", id_marker);
    auto r = send("GET", "", q, {}, {}, http::Payload::Signed, "S3 list multipart uploads " + describe(prefix));
    if (r.status != 200) fail(r, "list multipart uploads", prefix);
    auto page = s3xml::parse_list_multipart_uploads(r.body);
    all.insert(all.end(), page.uploads.begin(), page.uploads.end());
    if (!page.truncated) return all;
    if (page.next_key_marker.empty() || (page.next_key_marker == key_marker && page.next_upload_id_marker == id_marker))
      throw ServiceError("S3 list multipart uploads: the listing continues but the markers did not move");
    key_marker = page.next_key_marker;
    id_marker = page.next_upload_id_marker;
  }
}

void S3Client::get_range(const std::string &name, uint64_t first, uint64_t last,
                         const std::function<void(std::span<const std::byte>)> &sink, const std::atomic<bool> *cancel) {
  const uint64_t length = last - first + 1;
  uint64_t received = 0; // survives attempts: a retry asks only for what is still missing
  const auto what = fmt::format("S3 GET {} bytes {}-{}", describe(name), first, last);
  auto make_request = [&] {
    http::Request request;
    request.method = "GET";
    request.url = endpoint_.url(settings_.bucket, name, "");
    request.headers = {{"Range", fmt::format("bytes={}-{}", first + received, last)}};
    request.cancel = cancel;
    request.on_body = [&](std::span<const std::byte> data) {
      if (received + data.size() > length)
        throw IntegrityError(fmt::format("{}: the server sent more bytes than asked for", what));
      sink(data);
      received += data.size();
    };
    return request;
  };
  auto r = http_.send(make_request, policy_, what);
  if (r.status == 206 || (r.status == 200 && first + received == 0 && received == length)) {
    if (received != length) throw IntegrityError(fmt::format("{}: got {} of {} bytes", what, received, length));
    return;
  }
  if (r.status == 416)
    throw IntegrityError(fmt::format("{}: the object is shorter than its manifest says", describe(name)));
  if (r.status == 404 && s3xml::error_code(r.body) == "NoSuchKey")
    throw IntegrityError(fmt::format("the archive object {} is missing", describe(name)));
  if (r.status == 200) throw ServiceError(fmt::format("{}: the server ignored the Range header (HTTP 200)", what));
  fail(r, "GET", name);
}

} // namespace cachekit::storage
