#pragma once
// Command-line flags with environment fallbacks: `--some-name v`, `--some-name=v`, or
// CACHEKIT_SOME_NAME. Unknown flags are usage errors (exit 2).
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace cachekit::cli {

struct OptionSpec {
  std::string name;        // without the leading dashes
  bool boolean = false;    // a bare `--name` means true
  bool repeatable = false; // values are joined with newlines
};

class Options {
public:
  Options(const std::vector<OptionSpec> &specs, const std::vector<std::string> &args);

  // Flag value, else the CACHEKIT_* variable, else nullopt.
  std::optional<std::string> get(const std::string &name) const;
  std::string get_or(const std::string &name, const std::string &fallback) const;
  bool get_bool(const std::string &name, bool fallback) const;
  bool given(const std::string &name) const { return get(name).has_value(); }
  const std::vector<std::string> &positional() const { return positional_; }

  static std::string env_name(const std::string &option_name);

private:
  std::map<std::string, std::string> values_;
  std::vector<std::string> positional_;
};

std::optional<std::string> env(const char *name);

} // namespace cachekit::cli
