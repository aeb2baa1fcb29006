#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <flamecpp/app.hpp>

namespace flamecpp::detail {

/// The outcome of parsing the contract's command line.
struct CommandLine {
    ServerOptions options;
    bool help = false;
    std::string error;  ///< non-empty: a one-line reason the command line is bad
    std::string usage;
};

/// Parses --host, --port, --threads, --log-level, --help and the app's own `flags`
/// (Boost.ProgramOptions), filling the flags' values; a flag the command line does not give
/// comes from the environment variable `env_prefix` + its name in upper case with '_' for '-'
/// (none when `env_prefix` is empty).
CommandLine parse_command_line(int argc,
                               char** argv,
                               const ServerOptions& defaults,
                               const std::vector<FlagSpec>& flags = {},
                               const std::string& env_prefix = {});

/// The names the framework's own flags take.
bool is_framework_flag(std::string_view name) noexcept;

}  // namespace flamecpp::detail
