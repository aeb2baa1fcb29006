#pragma once

// Small helpers shared by the test clients (http_client.cpp, ws_client.cpp).

#include <chrono>
#include <string>
#include <string_view>

namespace flamecpp::test::util {

using Clock = std::chrono::steady_clock;

char lower(char c);
/// ASCII case-insensitive comparison.
bool iequals(std::string_view a, std::string_view b);
/// Without leading and trailing spaces and tabs.
std::string_view trim(std::string_view s);
/// Milliseconds left until `deadline`, for poll() (0 when past).
int poll_timeout(Clock::time_point deadline);
/// Printable excerpt of raw bytes for error messages.
std::string preview(std::string_view bytes);
/// Throws std::runtime_error with `what` and strerror(errno).
[[noreturn]] void throw_errno(const std::string& what);
/// Sends everything or reports why not: 0 on success, an errno value otherwise (ETIMEDOUT
/// when the socket did not become writable in time).
int send_all(int fd, std::string_view bytes, Clock::time_point deadline);

}  // namespace flamecpp::test::util
