#pragma once
// The S3 operations the backend needs, over http::Client: each one signed, retried per the
// policy and checked, so callers see either a result or an OperationError that names the
// cause (wrong secret, unknown access key, missing bucket, access denied, wrong region…).
// "Not found" for an object is a result (nullopt / false), never an error. Errors are typed
// for the fallback policy (engine/fallback.hpp): ConfigurationError for what only the
// operator can fix (credentials, bucket, region, policy), ServiceError for a server that is
// down or failing (connection, TLS, 5xx after the retries, unusable answers).
#include "http/client.hpp"
#include "http/uri.hpp"
#include "storage/s3_settings.hpp"
#include "storage/s3_xml.hpp"

#include <atomic>
#include <cstddef>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace cachekit::storage {

class S3Client {
public:
  S3Client(const S3Settings &settings, S3Credentials credentials);

  const S3Settings &settings() const { return settings_; }
  const S3Endpoint &endpoint() const { return endpoint_; }
  const http::RetryPolicy &policy() const { return policy_; }
  std::string describe(const std::string &object_name = "") const; // s3://bucket/name

  // Small whole objects (manifests, markers).
  std::optional<std::string> get_object(const std::string &name);
  void put_object(const std::string &name, std::span<const std::byte> body,
                  http::Payload payload = http::Payload::Signed);
  // PUT with If-None-Match: *. false when the object already exists (HTTP 412) — or when a
  // retried attempt finds the object its own earlier attempt created (`same_body` decides).
  bool put_object_if_absent(const std::string &name, std::string_view body);
  void delete_object(const std::string &name); // a missing object is fine

  // Every object whose name starts with `prefix`, across all pages; `on_page` sees each page
  // as it arrives (pages hold up to 1000 names).
  void list_objects(const std::string &prefix, const std::function<void(std::vector<s3xml::ListedObject> &&)> &on_page);
  std::vector<s3xml::ListedObject> list_objects(const std::string &prefix);

  // Multipart upload.
  std::string create_multipart_upload(const std::string &name);
  std::string upload_part(const std::string &name, const std::string &upload_id, int part_number,
                          std::span<const std::byte> data,
                          const std::atomic<bool> *cancel = nullptr); // returns the ETag
  void complete_multipart_upload(const std::string &name, const std::string &upload_id,
                                 const std::vector<std::string> &etags);
  void abort_multipart_upload(const std::string &name, const std::string &upload_id);
  std::vector<s3xml::ListedUpload> list_multipart_uploads(const std::string &prefix);

  // Streams bytes [first, last] of an object into `sink`, resuming after a dropped or
  // stalled connection from the last byte received. Throws IntegrityError when the object
  // is missing or shorter than asked (its manifest promised those bytes).
  void get_range(const std::string &name, uint64_t first, uint64_t last,
                 const std::function<void(std::span<const std::byte>)> &sink, const std::atomic<bool> *cancel);

  // Throws the ConfigurationError or ServiceError that explains a failed answer.
  [[noreturn]] void fail(const http::Response &response, const std::string &operation,
                         const std::string &object_name) const;

private:
  http::Response send(const std::string &method, const std::string &object_name, const http::Query &query,
                      std::span<const std::byte> body, std::vector<std::pair<std::string, std::string>> headers,
                      http::Payload payload, const std::string &what, const std::atomic<bool> *cancel = nullptr);

  S3Settings settings_;
  S3Endpoint endpoint_;
  S3Credentials credentials_;
  http::RetryPolicy policy_;
  http::Client http_;
};

} // namespace cachekit::storage
