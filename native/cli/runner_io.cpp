#include "cli/runner_io.hpp"

#include "cli/options.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"
#include "util/log.hpp"
#include "util/strings.hpp"

#include <cstdio>
#include <fcntl.h>
#include <fmt/format.h>

namespace cachekit::cli {
namespace {

void append_to(const std::string &path, const std::string &text) {
  auto fd = open_or_throw(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
  write_all(fd.get(), text.data(), text.size(), path);
}

std::string escape_cell(const std::string &s) {
  std::string out;
  for (char c : s)
    out += c == '|' ? std::string("\\|") : std::string(1, c);
  return out;
}

} // namespace

bool in_github_actions() {
  return env("GITHUB_ACTIONS").value_or("") == "true";
}

void write_outputs(const Outputs &outputs) {
  std::string file_text;
  for (const auto &[name, value] : outputs) {
    std::printf("%s=%s\n", name.c_str(), log::mask(value).c_str());
    if (value.find('\n') != std::string::npos) {
      const auto delimiter = "ghadelimiter_" + random_hex(8);
      file_text += fmt::format("{}<<{}\n{}\n{}\n", name, delimiter, value, delimiter);
    } else {
      file_text += fmt::format("{}={}\n", name, value);
    }
  }
  std::fflush(stdout);
  if (auto path = env("GITHUB_OUTPUT"); path && !path->empty()) append_to(*path, file_text);
}

void append_summary(const SummaryRow &row) {
  auto path = env("GITHUB_STEP_SUMMARY");
  if (!path || path->empty()) return;
  const auto text =
      fmt::format("| cachekit {} | key | result | matched key | backend | size | time | speed |\n"
                  "|---|---|---|---|---|---:|---:|---:|\n"
                  "| | `{}` | {} | `{}` | {} | {} | {:.1f}s | {} |\n\n",
                  row.operation, escape_cell(row.key), escape_cell(row.result), escape_cell(row.matched_key),
                  row.backend, human_bytes(row.size), row.seconds, rate_mbs(row.size, row.seconds));
  try {
    append_to(*path, log::mask(text));
  } catch (const std::exception &e) {
    log::warning("cannot write the job summary: {}", e.what());
  }
}

} // namespace cachekit::cli
