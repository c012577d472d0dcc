#include "storage/gha_twirp.hpp"

#include "http/uri.hpp"
#include "storage/backend.hpp"
#include "util/error.hpp"
#include "util/log.hpp"
#include "util/strings.hpp"

#include <chrono>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace cachekit::storage::gha {
namespace {

using nlohmann::json;

std::string dump(const json &j) {
  // Compact, as JSON.stringify; invalid UTF-8 in a key is replaced rather than thrown on.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

json parse_object(std::string_view body, std::string_view method) {
  auto j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    throw ServiceError(
        fmt::format("GitHub cache {}: the answer is not a JSON object: {}", method, trim(body.substr(0, 200))));
  return j;
}

// A field in either protojson spelling; int64 fields may come as strings or numbers.
std::string text_field(const json &j, const char *snake, const char *camel) {
  for (const char *name : {snake, camel}) {
    auto it = j.find(name);
    if (it == j.end() || it->is_null()) continue;
    if (it->is_string()) return it->get<std::string>();
    if (it->is_number_integer() || it->is_number_unsigned()) return it->dump();
  }
  return "";
}

bool ok_field(const json &j) {
  auto it = j.find("ok");
  if (it == j.end()) return false;
  if (it->is_boolean()) return it->get<bool>();
  if (it->is_string()) return it->get<std::string>() == "true";
  return false;
}

bool is_success(long status) {
  return status >= 200 && status < 300;
}

std::string tries(const http::Response &r) {
  return r.attempts > 1 ? fmt::format(" (after {} attempts)", r.attempts) : std::string();
}

} // namespace

std::string create_entry_body(const std::string &key, const std::string &version) {
  return dump(json{{"key", key}, {"version", version}});
}

std::string finalize_body(const std::string &key, const std::string &version, uint64_t size_bytes) {
  return dump(json{{"key", key}, {"size_bytes", std::to_string(size_bytes)}, {"version", version}});
}

std::string download_url_body(const std::string &key, const std::vector<std::string> &restore_keys,
                              const std::string &version) {
  json j{{"key", key}, {"version", version}};
  if (!restore_keys.empty()) j["restore_keys"] = restore_keys; // defaults are omitted
  return dump(j);
}

CreateEntryReply parse_create_entry(std::string_view body, std::string_view method) {
  const auto j = parse_object(body, method);
  return {ok_field(j), text_field(j, "signed_upload_url", "signedUploadUrl"), text_field(j, "message", "message")};
}

FinalizeReply parse_finalize(std::string_view body, std::string_view method) {
  const auto j = parse_object(body, method);
  return {ok_field(j), text_field(j, "entry_id", "entryId"), text_field(j, "message", "message")};
}

DownloadUrlReply parse_download_url(std::string_view body, std::string_view method) {
  const auto j = parse_object(body, method);
  return {ok_field(j), text_field(j, "signed_download_url", "signedDownloadUrl"),
          text_field(j, "matched_key", "matchedKey")};
}

TwirpError parse_twirp_error(std::string_view body) {
  const auto j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return {};
  return {text_field(j, "code", "code"), text_field(j, "msg", "msg")};
}

void mask_signed_url(const std::string &url) {
  const auto q = url.find('?');
  if (q == std::string::npos) return;
  for (const auto &param : split(std::string_view(url).substr(q + 1), '&')) {
    if (!param.starts_with("sig=")) continue;
    const auto value = param.substr(4);
    log::add_secret(value);
    const auto decoded = http::percent_decode(value);
    if (decoded != value) log::add_secret(decoded);
  }
}

TwirpClient::TwirpClient(const GithubSettings &settings, http::Client &http)
    : origin_(results_origin(settings.results_url)), authorization_("Bearer " + settings.token),
      policy_(settings.retry_count), http_(http) {
  // An unreachable service must cost one connect timeout, and a rate limit is an answer.
  policy_.without_unreachable_retries().without_throttle_retries();
  log::add_secret(settings.token);
}

http::Response TwirpClient::call(const std::string &method, const std::string &body) {
  http::Request request;
  request.method = "POST";
  request.url = fmt::format("{}/twirp/{}/{}", origin_, kService, method);
  request.headers = {{"Content-Type", "application/json"}, {"Authorization", authorization_}};
  request.body = std::as_bytes(std::span(body.data(), body.size()));
  log::debug("GitHub cache {}: {}", method, body);
  return http_.send(request, policy_, "GitHub cache " + method);
}

void TwirpClient::fail(const std::string &method, const http::Response &r) const {
  const auto e = parse_twirp_error(r.body);
  const auto what = e.code.empty() ? fmt::format("HTTP {}", r.status) : fmt::format("HTTP {} {}", r.status, e.code);
  const auto detail = e.msg.empty() ? std::string() : ": " + e.msg;
  if (r.status == 401 || r.status == 403)
    throw ConfigurationError(fmt::format("GitHub cache {} at {} failed: {}{}{} (the runtime token was refused)", method,
                                         origin_, what, detail, tries(r)));
  if (r.status == 429)
    throw ServiceError(fmt::format("GitHub cache {} failed: rate limited ({}{})", method, what, detail));
  throw ServiceError(fmt::format("GitHub cache {} at {} failed: {}{}{}", method, origin_, what, detail, tries(r)));
}

std::string TwirpClient::create_entry(const std::string &key, const std::string &version) {
  const auto r = call("CreateCacheEntry", create_entry_body(key, version));
  if (r.status == 409) {
    const auto e = parse_twirp_error(r.body);
    throw SaveDeclined(
        fmt::format("another job is creating this entry in the GitHub cache ({})", e.msg.empty() ? "HTTP 409" : e.msg),
        false);
  }
  if (r.status == 429) {
    std::string wait;
    if (auto ra = r.header("retry-after"))
      if (auto d = http::parse_retry_after(*ra, std::chrono::system_clock::now()))
        wait = fmt::format("; the limit resets in {}s", std::chrono::duration_cast<std::chrono::seconds>(*d).count());
    throw SaveDeclined(fmt::format("the GitHub cache is rate limiting uploads (HTTP 429{})", wait), true);
  }
  if (!is_success(r.status)) {
    if (parse_twirp_error(r.body).msg.find("insufficient usage") != std::string::npos)
      throw SaveDeclined("the GitHub cache storage quota is used up", true);
    fail("CreateCacheEntry", r);
  }
  const auto reply = parse_create_entry(r.body);
  if (!reply.ok)
    throw SaveDeclined(reply.message.empty() ? std::string("the GitHub cache did not reserve the entry")
                                             : "the GitHub cache did not reserve the entry: " + reply.message,
                       true);
  if (reply.signed_upload_url.empty())
    throw ServiceError("GitHub cache CreateCacheEntry: the answer has no signed_upload_url");
  mask_signed_url(reply.signed_upload_url);
  return reply.signed_upload_url;
}

bool TwirpClient::finalize(const std::string &key, const std::string &version, uint64_t size_bytes) {
  const auto r = call("FinalizeCacheEntryUpload", finalize_body(key, version, size_bytes));
  // A retry after a lost answer meets its own finalized entry; otherwise someone else won.
  if (r.status == 409) return r.attempts > 1;
  if (!is_success(r.status)) fail("FinalizeCacheEntryUpload", r);
  const auto reply = parse_finalize(r.body);
  if (!reply.ok)
    throw ServiceError(fmt::format("GitHub cache FinalizeCacheEntryUpload: the entry was not finalized{}",
                                   reply.message.empty() ? std::string() : ": " + reply.message));
  log::debug("GitHub cache entry {} finalized ({} bytes)", reply.entry_id, size_bytes);
  return true;
}

std::optional<DownloadUrlReply> TwirpClient::download_url(const std::string &key,
                                                          const std::vector<std::string> &restore_keys,
                                                          const std::string &version) {
  const auto r = call("GetCacheEntryDownloadURL", download_url_body(key, restore_keys, version));
  if (!is_success(r.status)) fail("GetCacheEntryDownloadURL", r);
  auto reply = parse_download_url(r.body);
  if (!reply.ok) return std::nullopt;
  if (reply.signed_download_url.empty() || reply.matched_key.empty())
    throw ServiceError("GitHub cache GetCacheEntryDownloadURL: a hit without signed_download_url or matched_key");
  mask_signed_url(reply.signed_download_url);
  return reply;
}

} // namespace cachekit::storage::gha
