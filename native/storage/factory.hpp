#pragma once
// Builds the configured backend from settings the CLI resolved.
#include "storage/backend.hpp"
#include "storage/gha_settings.hpp"
#include "storage/s3_settings.hpp"

#include <memory>
#include <string>

namespace cachekit::storage {

struct BackendSettings {
  std::string type = "local"; // local | s3 | github
  std::string local_dir;
  S3Settings s3;
  GithubSettings github;
};

std::unique_ptr<Backend> make_backend(const BackendSettings &settings);

} // namespace cachekit::storage
