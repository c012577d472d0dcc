#pragma once
// Errors are exceptions that carry their exit-code category, so every layer can add
// context and the CLI maps them to exit codes in one place.
#include <stdexcept>
#include <string>

namespace cachekit {

// Bad usage or bad input: exit code 2. The message names the input and what was expected.
class UsageError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// An operation failed (I/O, storage, unsafe archive): exit code 1.
class OperationError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// Stored data is not what its manifest promised (checksum or size mismatch, corrupt
// stream). A restore treats it as a miss with a warning, never as a hit.
class IntegrityError : public OperationError {
public:
  using OperationError::OperationError;
};

// An archive tried to write outside the declared cache paths.
class UnsafeArchiveError : public OperationError {
public:
  using OperationError::OperationError;
};

// A storage service failed or could not be reached: connection refused or timed out, TLS
// failure, a stalled transfer, 5xx answers after the retries, an answer that makes no sense.
// Nothing is wrong with the caller's configuration, so another backend (the GitHub-cache
// fallback) may serve instead.
class ServiceError : public OperationError {
public:
  using OperationError::OperationError;
};

// A storage service refused us for a reason no retry and no other backend can fix: wrong
// secret, unknown access key, access denied, missing bucket, wrong region. Always reported
// as an error, never hidden by a fallback.
class ConfigurationError : public OperationError {
public:
  using OperationError::OperationError;
};

// No credentials were given for a backend that needs them (e.g. a fork's pull request
// gets no secrets). Bad input (exit 2), unless the GitHub-cache fallback can serve instead.
class MissingCredentialsError : public UsageError {
public:
  using UsageError::UsageError;
};

// Throws OperationError with `what` and strerror(errno_value).
[[noreturn]] void throw_errno(const std::string &what, int errno_value);
[[noreturn]] void throw_errno(const std::string &what);

} // namespace cachekit
