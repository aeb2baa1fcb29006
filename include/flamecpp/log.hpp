#pragma once

/// @file
/// The app's own log records, written by the framework's logger: one line each on stderr,
/// with the same timestamp, level and thread as the server's, filtered by `--log-level`.
///
/// @code
/// flamecpp::log(flamecpp::LogLevel::info, "startup complete");
/// @endcode

#include <string_view>

#include <flamecpp/server.hpp>

namespace flamecpp {

/// Writes `text` as one record at `level` (`LogLevel::off` writes nothing).
void log(LogLevel level, std::string_view text);

}  // namespace flamecpp
