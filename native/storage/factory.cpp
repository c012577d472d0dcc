#include "storage/factory.hpp"

#include "storage/local_backend.hpp"
#include "util/error.hpp"

#include <fmt/format.h>

namespace cachekit::storage {

std::unique_ptr<Backend> make_backend(const BackendSettings &settings) {
  if (settings.type == "local") {
    if (settings.local_dir.empty()) throw UsageError("local-dir: a directory is required for the local backend");
    return std::make_unique<LocalBackend>(settings.local_dir);
  }
  if (settings.type == "s3" || settings.type == "github")
    throw UsageError(
        fmt::format("backend: '{}' is not implemented in this build yet (available: local)", settings.type));
  throw UsageError(fmt::format("backend: '{}' is not a backend (expected local, s3 or github)", settings.type));
}

} // namespace cachekit::storage
