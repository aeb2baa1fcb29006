#include "log.hpp"

#include <memory>

#include <spdlog/sinks/stdout_sinks.h>

#include <flamecpp/log.hpp>

namespace flamecpp::detail {

spdlog::logger& logger() {
    static const std::shared_ptr<spdlog::logger> instance = [] {
        auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
        auto made = std::make_shared<spdlog::logger>("flamecpp", std::move(sink));
        made->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ [%t] %v");
        made->flush_on(spdlog::level::warn);
        return made;
    }();
    return *instance;
}

namespace {
constexpr spdlog::level::level_enum levels[] = {spdlog::level::trace, spdlog::level::debug,
                                                spdlog::level::info,  spdlog::level::warn,
                                                spdlog::level::err,   spdlog::level::off};
}

void set_log_level(LogLevel level) { logger().set_level(levels[static_cast<int>(level)]); }

}  // namespace flamecpp::detail

namespace flamecpp {

void log(LogLevel level, std::string_view text) {
    if (level == LogLevel::off) {
        return;
    }
    detail::logger().log(detail::levels[static_cast<int>(level)], "{}", text);
}

}  // namespace flamecpp
