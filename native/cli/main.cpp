// cachekit: restore and save CI caches. Exit codes: 0 ok (a miss is ok), 1 the
// operation failed, 2 bad usage or bad input.
#include "archive/ascii_mbrtowc.hpp"
#include "cli/commands.hpp"
#include "cli/runner_io.hpp"
#include "util/error.hpp"
#include "util/log.hpp"

#include <clocale>
#include <string>
#include <vector>

int main(int argc, char **argv) {
  using namespace cachekit;
  // Archive member names are UTF-8 (pax). Under a UTF-8 ctype libarchive passes them through
  // unchanged instead of converting every name to the "C" locale's charset (slow, and lossy
  // for non-ASCII names).
  if (std::setlocale(LC_CTYPE, "C.UTF-8") || std::setlocale(LC_CTYPE, "C.utf8"))
    archive::use_ascii_mbrtowc_fast_path(true);
  else
    std::setlocale(LC_CTYPE, "");
  if (cli::in_github_actions()) log::set_mode(log::Mode::GitHubActions);
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    cli::print_help();
    return 2;
  }
  const std::string command = args.front();
  args.erase(args.begin());
  try {
    if (command == "restore") return cli::run_restore(args);
    if (command == "save") return cli::run_save(args);
    if (command == "ls") return cli::run_ls(args);
    if (command == "rm") return cli::run_rm(args);
    if (command == "prune") return cli::run_prune(args);
    if (command == "version" || command == "--version") return cli::run_version();
    if (command == "help" || command == "--help" || command == "-h") {
      cli::print_help();
      return 0;
    }
    log::error("unknown command '{}' (expected restore, save, ls, rm, prune or version)", command);
    return 2;
  } catch (const UsageError &e) {
    log::error("{}", e.what());
    return 2;
  } catch (const std::exception &e) {
    log::error("{} failed: {}", command, e.what());
    return 1;
  }
}
