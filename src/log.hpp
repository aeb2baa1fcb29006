#pragma once

#include <spdlog/spdlog.h>  // SPDLOG_LOGGER_DEBUG: compiled out of release builds

#include <flamecpp/server.hpp>

namespace flamecpp::detail {

/// The one logger of the process ("flamecpp", to stderr).
spdlog::logger& logger();

/// Sets the level of that logger.
void set_log_level(LogLevel level);

}  // namespace flamecpp::detail
