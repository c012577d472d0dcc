#include "util/error.hpp"

#include <cerrno>
#include <cstring>

namespace cachekit {

void throw_errno(const std::string &what, int errno_value) {
  throw OperationError(what + ": " + std::strerror(errno_value));
}

void throw_errno(const std::string &what) {
  throw_errno(what, errno);
}

} // namespace cachekit
