#pragma once
// GitHub runner I/O: step outputs ($GITHUB_OUTPUT), the job summary
// ($GITHUB_STEP_SUMMARY). Annotations and masking live in util/log.
#include <string>
#include <utility>
#include <vector>

namespace cachekit::cli {

using Outputs = std::vector<std::pair<std::string, std::string>>;

bool in_github_actions();
// Always printed to stdout as name=value; also appended to $GITHUB_OUTPUT when set.
void write_outputs(const Outputs &outputs);

struct SummaryRow {
  std::string operation; // restore / save
  std::string key;
  std::string result; // "hit", "restore-key hit", "miss", "saved", "skipped: ..."
  std::string matched_key;
  std::string backend;
  uint64_t size = 0;
  double seconds = 0;
};
void append_summary(const SummaryRow &row);

} // namespace cachekit::cli
