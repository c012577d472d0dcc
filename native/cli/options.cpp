#include "cli/options.hpp"

#include "util/error.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <cstdlib>
#include <fmt/format.h>

namespace cachekit::cli {

std::optional<std::string> env(const char *name) {
  const char *v = std::getenv(name);
  if (!v) return std::nullopt;
  return std::string(v);
}

std::string Options::env_name(const std::string &option_name) {
  std::string out = "CACHEKIT_";
  for (char c : option_name)
    out += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

Options::Options(const std::vector<OptionSpec> &specs, const std::vector<std::string> &args) {
  auto find = [&](const std::string &name) -> const OptionSpec * {
    auto it = std::find_if(specs.begin(), specs.end(), [&](const auto &s) { return s.name == name; });
    return it == specs.end() ? nullptr : &*it;
  };
  for (size_t i = 0; i < args.size(); ++i) {
    const auto &arg = args[i];
    if (!arg.starts_with("--")) {
      positional_.push_back(arg);
      continue;
    }
    auto body = arg.substr(2);
    std::optional<std::string> value;
    if (auto eq = body.find('='); eq != std::string::npos) {
      value = body.substr(eq + 1);
      body = body.substr(0, eq);
    }
    const auto *spec = find(body);
    if (!spec) throw UsageError(fmt::format("unknown option --{} (see `cachekit help`)", body));
    if (!value) {
      if (spec->boolean)
        value = "true";
      else if (i + 1 < args.size())
        value = args[++i];
      else
        throw UsageError(fmt::format("--{}: a value is required", body));
    }
    if (spec->boolean) parse_bool(*value, body); // reject garbage early, naming the flag
    auto [it, inserted] = values_.emplace(body, *value);
    if (!inserted) {
      if (!spec->repeatable) throw UsageError(fmt::format("--{}: given more than once", body));
      it->second += "\n" + *value;
    }
  }
}

std::optional<std::string> Options::get(const std::string &name) const {
  if (auto it = values_.find(name); it != values_.end()) return it->second;
  // An empty variable counts as unset: Actions passes unset inputs as "".
  auto v = env(env_name(name).c_str());
  if (v && v->empty()) return std::nullopt;
  return v;
}

std::string Options::get_or(const std::string &name, const std::string &fallback) const {
  auto v = get(name);
  return v ? *v : fallback;
}

bool Options::get_bool(const std::string &name, bool fallback) const {
  auto v = get(name);
  if (!v) return fallback;
  return parse_bool(*v, name);
}

} // namespace cachekit::cli
