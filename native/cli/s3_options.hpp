#pragma once
// The S3 inputs (each a --flag and a CACHEKIT_* variable, see docs/cli.md) and how they
// resolve: flag/variable > the restore step's state file > default. Secrets are registered
// for masking here and never reach the state file.
#include "cli/options.hpp"
#include "storage/s3_settings.hpp"

#include <nlohmann/json_fwd.hpp>
#include <vector>

namespace cachekit::cli {

extern const std::vector<OptionSpec> kS3Options;

storage::S3Settings resolve_s3_settings(const Options &o, const storage::S3Settings *from_state);

// The non-secret settings, for the state file.
nlohmann::json s3_settings_to_state(const storage::S3Settings &s);
storage::S3Settings s3_settings_from_state(const nlohmann::json &j);

} // namespace cachekit::cli
