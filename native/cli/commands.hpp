#pragma once
// The subcommands. Each returns the process exit code; errors are thrown and mapped to
// exit codes in main.cpp.
#include <string>
#include <vector>

namespace cachekit::cli {

int run_restore(const std::vector<std::string> &args);
int run_save(const std::vector<std::string> &args);
int run_ls(const std::vector<std::string> &args);
int run_rm(const std::vector<std::string> &args);
int run_prune(const std::vector<std::string> &args);
int run_version();
void print_help();

} // namespace cachekit::cli
