#include "storage/factory.hpp"

#include "storage/gha_backend.hpp"
#include "storage/local_backend.hpp"
#include "storage/s3_backend.hpp"
#include "util/error.hpp"
#include "util/log.hpp"

#include <cstdlib>
#include <fmt/format.h>

namespace cachekit::storage {

std::unique_ptr<Backend> make_backend(const BackendSettings &settings) {
  if (settings.type == "local") {
    if (settings.local_dir.empty()) throw UsageError("local-dir: a directory is required for the local backend");
    return std::make_unique<LocalBackend>(settings.local_dir);
  }
  if (settings.type == "s3") {
    validate(settings.s3);
    auto credentials = resolve_credentials(settings.s3, [](const char *name) -> std::optional<std::string> {
      const char *v = std::getenv(name);
      return v ? std::optional<std::string>(v) : std::nullopt;
    });
    if (credentials.secret_key != settings.s3.secret_key) { // ambient: the CLI registered only the inputs
      log::add_secret(credentials.secret_key);
      log::add_secret(credentials.session_token);
    }
    return std::make_unique<S3Backend>(settings.s3, std::move(credentials));
  }
  if (settings.type == "github") return std::make_unique<GhaBackend>(settings.github);
  throw UsageError(fmt::format("backend: '{}' is not a backend (expected local, s3 or github)", settings.type));
}

} // namespace cachekit::storage
