#pragma once

#include <optional>
#include <string>

#include <flamecpp/app.hpp>

namespace flamecpp::detail {

/// The outcome of parsing the contract's command line.
struct CommandLine {
    ServerOptions options;
    bool help = false;
    std::string error;  ///< non-empty: a one-line reason the command line is bad
    std::string usage;
};

/// Parses --host, --port, --threads, --log-level and --help (Boost.ProgramOptions).
CommandLine parse_command_line(int argc, char** argv, const ServerOptions& defaults);

}  // namespace flamecpp::detail
