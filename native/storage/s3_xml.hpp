#pragma once
// The few S3 XML documents the backend reads (list results, multipart replies, errors). S3
// XML is flat and machine-written, so a tag scanner with entity decoding is enough; no XML
// library is pulled in for it.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cachekit::storage::s3xml {

// Text of the first <tag>…</tag> in `xml` (entities decoded); nullopt when absent.
std::optional<std::string> text(std::string_view xml, std::string_view tag);
// The inner XML of every <tag>…</tag> block, in order.
std::vector<std::string_view> blocks(std::string_view xml, std::string_view tag);
std::string decode_entities(std::string_view s);
std::string escape(std::string_view s);

// S3 timestamps: "2026-11-23T11:35:00.123Z" (also without fraction). nullopt if malformed.
std::optional<int64_t> parse_timestamp_ms(std::string_view iso8601);

struct ListedObject {
  std::string name;
  uint64_t size = 0;
  int64_t last_modified_ms = 0;
};

struct ListPage {
  std::vector<ListedObject> objects;
  bool truncated = false;
  std::string next_token;
};
ListPage parse_list_objects_v2(std::string_view xml);

struct ListedUpload {
  std::string name;
  std::string upload_id;
  int64_t initiated_ms = 0;
};
struct UploadsPage {
  std::vector<ListedUpload> uploads;
  bool truncated = false;
  std::string next_key_marker;
  std::string next_upload_id_marker;
};
UploadsPage parse_list_multipart_uploads(std::string_view xml);

// The <Code> of an <Error> document, "" when there is none.
std::string error_code(std::string_view body);

} // namespace cachekit::storage::s3xml
