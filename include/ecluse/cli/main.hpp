// The ecluse command line.
#pragma once

namespace ecluse::cli {

// Exit codes (README documents them).
inline constexpr int k_exit_ok = 0;
inline constexpr int k_exit_rejected = 1;  // a drop was rejected or a check failed
inline constexpr int k_exit_usage = 2;
inline constexpr int k_exit_internal = 3;  // internal or environment error

// Parses arguments, runs the command and returns the exit code. Never throws.
int main(int argc, char** argv) noexcept;

}  // namespace ecluse::cli
