#pragma once
// Operator-facing logging. Outside Actions: plain lines on stderr. Inside Actions:
// warnings and errors become ::warning::/::error:: annotations. Registered secrets are
// replaced by *** in every line, whatever the mode.
#include <fmt/format.h>

#include <string>
#include <string_view>

namespace cachekit::log {

enum class Mode { Plain, GitHubActions };

void set_mode(Mode mode);
Mode mode();
void set_debug(bool enabled);

// Registers a secret: it is masked in all later output, and in Actions mode the runner is
// told with ::add-mask:: so it masks it too.
void add_secret(const std::string &secret);
std::string mask(std::string_view text);

void info(std::string_view message);
void warning(std::string_view message);
void error(std::string_view message);
void debug(std::string_view message);

template <typename... Args> void info(fmt::format_string<Args...> f, Args &&...args) {
  info(std::string_view(fmt::format(f, std::forward<Args>(args)...)));
}
template <typename... Args> void warning(fmt::format_string<Args...> f, Args &&...args) {
  warning(std::string_view(fmt::format(f, std::forward<Args>(args)...)));
}
template <typename... Args> void error(fmt::format_string<Args...> f, Args &&...args) {
  error(std::string_view(fmt::format(f, std::forward<Args>(args)...)));
}
template <typename... Args> void debug(fmt::format_string<Args...> f, Args &&...args) {
  debug(std::string_view(fmt::format(f, std::forward<Args>(args)...)));
}

} // namespace cachekit::log
