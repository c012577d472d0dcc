#include "storage/s3_xml.hpp"

#include "util/error.hpp"

#include <charconv>
#include <ctime>
#include <fmt/format.h>

namespace cachekit::storage::s3xml {
namespace {

// Finds <tag> or <tag attr…>, not <tagSuffix>.
size_t find_open(std::string_view xml, std::string_view tag, size_t from, size_t &content_start) {
  for (size_t pos = xml.find('<', from); pos != std::string_view::npos; pos = xml.find('<', pos + 1)) {
    if (xml.compare(pos + 1, tag.size(), tag) != 0) continue;
    const size_t after = pos + 1 + tag.size();
    if (after >= xml.size()) return std::string_view::npos;
    const char c = xml[after];
    if (c != '>' && c != ' ' && c != '/') continue;
    const size_t close = xml.find('>', after);
    if (close == std::string_view::npos) return std::string_view::npos;
    content_start = xml[close - 1] == '/' ? std::string_view::npos : close + 1; // <tag/> is empty
    return pos;
  }
  return std::string_view::npos;
}

} // namespace

std::vector<std::string_view> blocks(std::string_view xml, std::string_view tag) {
  std::vector<std::string_view> out;
  const std::string close = fmt::format("</{}>", tag);
  size_t from = 0;
  for (;;) {
    size_t content = 0;
    const size_t open = find_open(xml, tag, from, content);
    if (open == std::string_view::npos) break;
    if (content == std::string_view::npos) { // self-closing
      out.emplace_back();
      from = open + 1;
      continue;
    }
    const size_t end = xml.find(close, content);
    if (end == std::string_view::npos) break;
    out.push_back(xml.substr(content, end - content));
    from = end + close.size();
  }
  return out;
}

std::optional<std::string> text(std::string_view xml, std::string_view tag) {
  size_t content = 0;
  const size_t open = find_open(xml, tag, 0, content);
  if (open == std::string_view::npos) return std::nullopt;
  if (content == std::string_view::npos) return std::string();
  const size_t end = xml.find(fmt::format("</{}>", tag), content);
  if (end == std::string_view::npos) return std::nullopt;
  return decode_entities(xml.substr(content, end - content));
}

std::string decode_entities(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      out += s[i];
      continue;
    }
    const size_t semi = s.find(';', i);
    if (semi == std::string_view::npos || semi - i > 10) {
      out += s[i];
      continue;
    }
    const auto entity = s.substr(i + 1, semi - i - 1);
    if (entity == "amp")
      out += '&';
    else if (entity == "lt")
      out += '<';
    else if (entity == "gt")
      out += '>';
    else if (entity == "quot")
      out += '"';
    else if (entity == "apos")
      out += '\'';
    else if (entity.starts_with("#")) {
      unsigned long cp = 0;
      const bool hex = entity.size() > 1 && (entity[1] == 'x' || entity[1] == 'X');
      const auto digits = entity.substr(hex ? 2 : 1);
      auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), cp, hex ? 16 : 10);
      if (ec != std::errc() || p != digits.data() + digits.size() || cp > 0x10FFFF) {
        out += s.substr(i, semi - i + 1);
      } else if (cp < 0x80) {
        out += static_cast<char>(cp);
      } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
      } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
      } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
      }
    } else {
      out += s.substr(i, semi - i + 1);
    }
    i = semi;
  }
  return out;
}

std::string escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
    case '&': out += "&amp;"; break;
    case '<': out += "&lt;"; break;
    case '>': out += "&gt;"; break;
    case '"': out += "&quot;"; break;
    case '\'': out += "&apos;"; break;
    default: out += c;
    }
  }
  return out;
}

std::optional<int64_t> parse_timestamp_ms(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS[.fff…]Z
  if (s.size() < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':') return std::nullopt;
  auto num = [&](size_t pos, size_t len, int &out) {
    auto [p, ec] = std::from_chars(s.data() + pos, s.data() + pos + len, out);
    return ec == std::errc() && p == s.data() + pos + len;
  };
  std::tm tm{};
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!num(0, 4, year) || !num(5, 2, month) || !num(8, 2, day) || !num(11, 2, hour) || !num(14, 2, minute) ||
      !num(17, 2, second))
    return std::nullopt;
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  int64_t millis = 0;
  size_t pos = 19;
  if (pos < s.size() && s[pos] == '.') {
    int scale = 100;
    for (++pos; pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos])); ++pos) {
      millis += static_cast<int64_t>(s[pos] - '0') * scale;
      scale /= 10;
    }
  }
  if (pos >= s.size() || s[pos] != 'Z') return std::nullopt;
  return static_cast<int64_t>(timegm(&tm)) * 1000 + millis;
}

ListPage parse_list_objects_v2(std::string_view xml) {
  if (xml.find("<ListBucketResult") == std::string_view::npos)
    throw ServiceError("S3 answered a listing with something that is not a ListBucketResult");
  ListPage page;
  for (const auto block : blocks(xml, "Contents")) {
    ListedObject o;
    o.name = text(block, "Key").value_or("");
    const auto size = text(block, "Size").value_or("0");
    std::from_chars(size.data(), size.data() + size.size(), o.size);
    o.last_modified_ms = parse_timestamp_ms(text(block, "LastModified").value_or("")).value_or(0);
    if (!o.name.empty()) page.objects.push_back(std::move(o));
  }
  // Only the top-level IsTruncated matters; it precedes or follows the Contents blocks.
  page.truncated = text(xml, "IsTruncated").value_or("false") == "true";
  page.next_token = text(xml, "NextContinuationToken").value_or("");
  return page;
}

UploadsPage parse_list_multipart_uploads(std::string_view xml) {
  if (xml.find("<ListMultipartUploadsResult") == std::string_view::npos)
    throw ServiceError("S3 answered an upload listing with something that is not a ListMultipartUploadsResult");
  UploadsPage page;
  for (const auto block : blocks(xml, "Upload")) {
    ListedUpload u;
    u.name = text(block, "Key").value_or("");
    u.upload_id = text(block, "UploadId").value_or("");
    u.initiated_ms = parse_timestamp_ms(text(block, "Initiated").value_or("")).value_or(0);
    if (!u.name.empty() && !u.upload_id.empty()) page.uploads.push_back(std::move(u));
  }
  page.truncated = text(xml, "IsTruncated").value_or("false") == "true";
  page.next_key_marker = text(xml, "NextKeyMarker").value_or("");
  page.next_upload_id_marker = text(xml, "NextUploadIdMarker").value_or("");
  return page;
}

std::string error_code(std::string_view body) {
  if (body.find("<Error") == std::string_view::npos) return "";
  return text(body, "Code").value_or("");
}

} // namespace cachekit::storage::s3xml
