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

class HeadCache;

/// What the connection adds to a response head.
struct HeadOptions {
    std::string_view server;
    std::string_view date;
    bool close = false;          ///< send "Connection: close"
    bool keep_alive_10 = false;  ///< HTTP/1.0 keep-alive: send "Connection: keep-alive"
    bool chunked = false;        ///< streamed body: "Transfer-Encoding: chunked"
    HeadCache* cache = nullptr;  ///< the thread's cache of the head's repeating start
};

/// The start of a response head that repeats from response to response: the status line,
/// Server, Date, Content-Type and Content-Length. One per thread (no locks). It keeps the
/// block of the last response, rebuilds it when one of the first four changes (the Date once
/// a second) and rewrites only its last line when the length alone changes, so that a run of
/// like responses copies one block instead of formatting five lines.
class HeadCache {
public:
    /// The block for `response` under `options`, formatted or reused. Throws as write_head().
    /// `length`: the Content-Length line's value, or no_length for none; the line ends the
    /// block, so a change of length alone rewrites only that line.
    std::string_view block(const Response& response,
                           const HeadOptions& options,
                           std::uint64_t length);

    static constexpr std::uint64_t no_length = ~std::uint64_t{0};

private:
    void prefix(const Response& response, const HeadOptions& options);

    std::string block_;
    std::size_t prefix_size_ = 0;  ///< the block before its Content-Length line
    std::uint64_t length_ = no_length;
    Status status_{};
    std::string server_;
    std::string date_;
    std::string content_type_;
    bool valid_ = false;
};

/// Appends the status line and header block of `response` to `out`. Throws
/// std::invalid_argument for a header name or value that would break framing (CR, LF, NUL,
/// or a name that is not an RFC 9110 token).
void write_head(std::string& out, const Response& response, const HeadOptions& options);

/// True for an RFC 9110 5.6.2 token.
bool is_token(std::string_view s) noexcept;

}  // namespace flamecpp::detail
