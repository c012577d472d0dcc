#pragma once
// String, size, duration and time helpers shared by the CLI and the engine.
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cachekit {

std::string trim(std::string_view s);
std::vector<std::string> split(std::string_view s, char sep);
// Splits a multi-line input the way actions/cache does: each line trimmed, empty lines dropped.
std::vector<std::string> split_lines(std::string_view s);
std::string join(const std::vector<std::string> &parts, std::string_view sep);
std::string to_lower(std::string_view s);

// "512", "64K", "10M", "10G", "1T" (binary units). Throws UsageError naming `input_name`.
uint64_t parse_size(std::string_view text, std::string_view input_name);
// "90s", "30m", "12h", "7d", "2w". Throws UsageError naming `input_name`.
std::chrono::seconds parse_duration(std::string_view text, std::string_view input_name);
// true/false (case-insensitive), also 1/0 and yes/no. Throws UsageError naming `input_name`.
bool parse_bool(std::string_view text, std::string_view input_name);
int parse_int(std::string_view text, std::string_view input_name, int min, int max);

std::string human_bytes(uint64_t bytes);
std::string human_duration(std::chrono::seconds age);
// MB/s with one decimal, "-" when the time is too short to say.
std::string rate_mbs(uint64_t bytes, double seconds);

int64_t unix_millis_now();
std::string iso8601_utc(int64_t unix_millis);

} // namespace cachekit
