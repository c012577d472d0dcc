#include "cli/s3_options.hpp"

#include "util/error.hpp"
#include "util/log.hpp"
#include "util/strings.hpp"

#include <nlohmann/json.hpp>

namespace cachekit::cli {

const std::vector<OptionSpec> kS3Options = {
    {"endpoint"},
    {"region"},
    {"bucket"},
    {"insecure", true},
    {"path-style", true},
    {"access-key"},
    {"secret-key"},
    {"session-token"},
    {"s3-prefix"},
    {"retry-count"},
    {"part-size"},
    {"concurrency"},
    {"legacy-tespkg-layout", true},
    {"connect-timeout"},
    {"stall-timeout"},
};

storage::S3Settings resolve_s3_settings(const Options &o, const storage::S3Settings *from_state) {
  storage::S3Settings s = from_state ? *from_state : storage::S3Settings{};
  // Empty values count as not given: an action passes every input, set or not.
  auto given = [&](const char *name) -> std::optional<std::string> {
    auto v = o.get(name);
    if (!v || trim(*v).empty()) return std::nullopt;
    return v;
  };
  if (auto v = given("endpoint")) s.endpoint = trim(*v);
  if (auto v = given("region")) s.region = trim(*v);
  if (auto v = given("bucket")) s.bucket = trim(*v);
  if (auto v = given("insecure")) s.insecure = parse_bool(*v, "insecure");
  if (auto v = given("path-style")) s.path_style = parse_bool(*v, "path-style");
  if (auto v = given("s3-prefix")) s.prefix = trim(*v);
  if (auto v = given("retry-count")) s.retry_count = parse_int(*v, "retry-count", 0, 20);
  if (auto v = given("part-size")) s.part_size = parse_size(*v, "part-size");
  if (auto v = given("concurrency")) s.concurrency = parse_int(*v, "concurrency", 1, 64);
  if (auto v = given("legacy-tespkg-layout")) s.legacy_tespkg_layout = parse_bool(*v, "legacy-tespkg-layout");
  if (auto v = given("connect-timeout"))
    s.connect_timeout_seconds = static_cast<int>(parse_duration(*v, "connect-timeout").count());
  if (auto v = given("stall-timeout"))
    s.stall_timeout_seconds = static_cast<int>(parse_duration(*v, "stall-timeout").count());
  // Credentials never come from the state file.
  s.access_key = trim(o.get_or("access-key", ""));
  s.secret_key = o.get_or("secret-key", "");
  s.session_token = o.get_or("session-token", "");
  log::add_secret(s.secret_key);
  log::add_secret(s.session_token);
  return s;
}

nlohmann::json s3_settings_to_state(const storage::S3Settings &s) {
  nlohmann::json j{{"endpoint", s.endpoint},
                   {"region", s.region},
                   {"bucket", s.bucket},
                   {"prefix", s.prefix},
                   {"retry_count", s.retry_count},
                   {"part_size", s.part_size},
                   {"concurrency", s.concurrency},
                   {"legacy_tespkg_layout", s.legacy_tespkg_layout},
                   {"connect_timeout_seconds", s.connect_timeout_seconds},
                   {"stall_timeout_seconds", s.stall_timeout_seconds}};
  if (s.insecure) j["insecure"] = *s.insecure;
  if (s.path_style) j["path_style"] = *s.path_style;
  return j;
}

storage::S3Settings s3_settings_from_state(const nlohmann::json &j) {
  storage::S3Settings s;
  if (!j.is_object()) return s;
  s.endpoint = j.value("endpoint", s.endpoint);
  s.region = j.value("region", s.region);
  s.bucket = j.value("bucket", s.bucket);
  s.prefix = j.value("prefix", s.prefix);
  s.retry_count = j.value("retry_count", s.retry_count);
  s.part_size = j.value("part_size", s.part_size);
  s.concurrency = j.value("concurrency", s.concurrency);
  s.legacy_tespkg_layout = j.value("legacy_tespkg_layout", s.legacy_tespkg_layout);
  s.connect_timeout_seconds = j.value("connect_timeout_seconds", s.connect_timeout_seconds);
  s.stall_timeout_seconds = j.value("stall_timeout_seconds", s.stall_timeout_seconds);
  if (j.contains("insecure")) s.insecure = j.at("insecure").get<bool>();
  if (j.contains("path_style")) s.path_style = j.at("path_style").get<bool>();
  return s;
}

} // namespace cachekit::cli
