#pragma once
// URI encoding the way AWS SigV4 canonicalises it. libcurl signs the path and the query
// exactly as written, so both must already be canonical: every byte outside
// [A-Za-z0-9-._~] percent-encoded with upper-case hex, query parameters sorted, and a bare
// flag written as `name=`.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cachekit::http {

// Percent-encodes every byte outside the RFC 3986 unreserved set; '/' is kept when
// `keep_slash` (object names in paths), encoded otherwise (query values).
std::string uri_encode(std::string_view s, bool keep_slash);
// Reverses %XX escapes; anything else is kept as is ('+' stays '+').
std::string percent_decode(std::string_view s);

class Query {
public:
  Query &add(const std::string &name, const std::string &value = "");
  bool empty() const { return params_.empty(); }
  // "a=1&b=x%2Fy&uploads=": names and values encoded, sorted by encoded name, then value.
  std::string canonical() const;

private:
  std::vector<std::pair<std::string, std::string>> params_;
};

} // namespace cachekit::http
