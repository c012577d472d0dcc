#include "util/log.hpp"

#include <algorithm>
#include <cstdio>
#include <mutex>
#include <vector>

namespace cachekit::log {
namespace {

struct State {
  std::mutex mutex;
  Mode mode = Mode::Plain;
  bool debug = false;
  std::vector<std::string> secrets;
};

State &state() {
  static State s;
  return s;
}

std::string mask_locked(std::string_view text, const std::vector<std::string> &secrets) {
  std::string out(text);
  for (const auto &secret : secrets) {
    if (secret.empty()) continue;
    for (auto pos = out.find(secret); pos != std::string::npos; pos = out.find(secret, pos + 3))
      out.replace(pos, secret.size(), "***");
  }
  return out;
}

// Annotation values must not contain raw newlines (the runner would end the command).
std::string escape_annotation(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '%')
      out += "%25";
    else if (c == '\r')
      out += "%0D";
    else if (c == '\n')
      out += "%0A";
    else
      out += c;
  }
  return out;
}

void emit(std::string_view prefix_plain, std::string_view command, std::string_view message) {
  auto &s = state();
  std::lock_guard lock(s.mutex);
  const auto text = mask_locked(message, s.secrets);
  if (s.mode == Mode::GitHubActions && !command.empty())
    std::fprintf(stderr, "::%.*s::%s\n", static_cast<int>(command.size()), command.data(),
                 escape_annotation(text).c_str());
  else
    std::fprintf(stderr, "%.*s%s\n", static_cast<int>(prefix_plain.size()), prefix_plain.data(), text.c_str());
  std::fflush(stderr);
}

} // namespace

void set_mode(Mode mode) {
  state().mode = mode;
}
Mode mode() {
  return state().mode;
}
void set_debug(bool enabled) {
  state().debug = enabled;
}

void add_secret(const std::string &secret) {
  if (secret.empty()) return;
  auto &s = state();
  std::lock_guard lock(s.mutex);
  if (std::find(s.secrets.begin(), s.secrets.end(), secret) != s.secrets.end()) return; // told once
  s.secrets.push_back(secret);
  // The runner reads workflow commands from stdout.
  if (s.mode == Mode::GitHubActions) {
    std::fprintf(stdout, "::add-mask::%s\n", secret.c_str());
    std::fflush(stdout);
  }
}

std::string mask(std::string_view text) {
  auto &s = state();
  std::lock_guard lock(s.mutex);
  return mask_locked(text, s.secrets);
}

void info(std::string_view message) {
  emit("", "", message);
}
void warning(std::string_view message) {
  emit("warning: ", "warning", message);
}
void error(std::string_view message) {
  emit("error: ", "error", message);
}
void debug(std::string_view message) {
  if (!state().debug) return;
  emit("debug: ", "debug", message);
}

} // namespace cachekit::log
