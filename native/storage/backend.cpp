#include "storage/backend.hpp"

#include <nlohmann/json.hpp>

namespace cachekit::storage {

nlohmann::json to_json(const EntryManifest &m) {
  return nlohmann::json{{"format", 1},
                        {"key", m.key},
                        {"version", m.version},
                        {"repository", m.repository},
                        {"ref", m.ref},
                        {"size", m.size},
                        {"sha256", m.sha256},
                        {"created_ms", m.created_ms},
                        {"compression", m.compression},
                        {"run_id", m.run_id},
                        {"commit", m.commit},
                        {"tool_version", m.tool_version}};
}

EntryManifest manifest_from_json(const nlohmann::json &j) {
  EntryManifest m;
  m.key = j.at("key").get<std::string>();
  m.version = j.at("version").get<std::string>();
  m.repository = j.value("repository", "");
  m.ref = j.value("ref", "");
  m.size = j.at("size").get<uint64_t>();
  m.sha256 = j.value("sha256", "");
  m.created_ms = j.value("created_ms", int64_t{0});
  m.compression = j.value("compression", "zstd-without-long");
  m.run_id = j.value("run_id", "");
  m.commit = j.value("commit", "");
  m.tool_version = j.value("tool_version", "");
  return m;
}

} // namespace cachekit::storage
