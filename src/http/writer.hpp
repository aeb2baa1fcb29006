#pragma once

#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>

#include <flamecpp/response.hpp>

namespace flamecpp::detail {

/// The IMF-fixdate of the current second (RFC 9110 5.6.7), formatted at most once a second.
/// One per thread: no locks.
class DateCache {
public:
    std::string_view now();

private:
    std::time_t second_ = -1;
    char text_[32] = {};
    std::size_t size_ = 0;
};

/// Formats `t` as an IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT".
std::string format_http_date(std::time_t t);

/// What the connection adds to a response head.
struct HeadOptions {
    std::string_view server;
    std::string_view date;
    bool close = false;          ///< send "Connection: close"
    bool keep_alive_10 = false;  ///< HTTP/1.0 keep-alive: send "Connection: keep-alive"
    bool chunked = false;        ///< streamed body: "Transfer-Encoding: chunked"
};

/// Appends the status line and header block of `response` to `out`. Throws
/// std::invalid_argument for a header name or value that would break framing (CR, LF, NUL,
/// or a name that is not an RFC 9110 token).
void write_head(std::string& out, const Response& response, const HeadOptions& options);

/// True for an RFC 9110 5.6.2 token.
bool is_token(std::string_view s) noexcept;

}  // namespace flamecpp::detail
