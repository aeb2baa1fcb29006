// Test-only blocking HTTP/1.x client over plain POSIX sockets on 127.0.0.1. It sends exactly the
// bytes it is given (so tests can send malformed or hostile input) and parses answers one at a
// time from a retained buffer (so pipelined responses can be read one by one).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace flamecpp::test {

struct Response {
    int status = 0;
    std::string reason;
    std::vector<std::pair<std::string, std::string>> headers;  // in wire order
    std::string body;                                          // de-chunked; empty for HEAD
    int version = 0;                                           // 11 for HTTP/1.1, 10 for HTTP/1.0
    bool chunked = false;

    // The first header with that name (case-insensitive), if any.
    std::optional<std::string> header(std::string_view name) const;
    // How many headers have that name (case-insensitive).
    std::size_t header_count(std::string_view name) const;
    // Whether a comma-separated header (e.g. Connection) lists `token` (case-insensitive).
    bool header_has_token(std::string_view name, std::string_view token) const;
};

class RawConnection {
public:
    // Connects to 127.0.0.1:port. Throws std::runtime_error on failure.
    explicit RawConnection(std::uint16_t port,
                           std::chrono::milliseconds connect_timeout = std::chrono::seconds(5));
    ~RawConnection();
    RawConnection(RawConnection&& other) noexcept;
    RawConnection& operator=(RawConnection&& other) noexcept;
    RawConnection(const RawConnection&) = delete;
    RawConnection& operator=(const RawConnection&) = delete;

    // Sends all bytes. Throws std::runtime_error if the peer is gone or the bytes cannot be
    // written within `timeout` (the peer stopped reading).
    void send(std::string_view bytes, std::chrono::milliseconds timeout = std::chrono::seconds(5));
    // Like send(), but reports failure (peer closed/reset, timeout) as false instead of
    // throwing. Useful when the server is expected to give up on a request midway.
    bool try_send(std::string_view bytes,
                  std::chrono::milliseconds timeout = std::chrono::seconds(5));
    // Sends `bytes` in pieces of `chunk_size`, pausing `gap` between pieces. Returns false
    // as soon as a piece cannot be sent (peer closed).
    bool send_slowly(std::string_view bytes, std::size_t chunk_size, std::chrono::milliseconds gap);

    // Parses the next response, reading more bytes as needed. Bytes after the response stay
    // buffered for the next call. For the answer to a HEAD request pass head_request = true
    // (the body is then not expected even if Content-Length says otherwise).
    // Throws std::runtime_error("timed out waiting for response") on timeout, and a
    // std::runtime_error describing the problem if the bytes are not a valid response or the
    // connection ends before a complete response.
    Response read_response(std::chrono::milliseconds timeout = std::chrono::seconds(5),
                           bool head_request = false);

    // Waits until the peer closes the connection (read returns 0 or ECONNRESET). Bytes that
    // arrive meanwhile are kept (see pending()) and can still be parsed by read_response().
    // Returns false if the connection is still open after `timeout`.
    bool wait_closed(std::chrono::milliseconds timeout);

    // Half-closes: sends FIN, keeps reading possible.
    void shutdown_write();

    // Whether the peer has been seen closing the connection.
    bool closed_by_peer() const { return peer_closed_; }
    // Received bytes not consumed by read_response() yet.
    const std::string& pending() const { return buffer_; }
    std::uint16_t port() const { return port_; }

private:
    enum class ReadResult { data, closed, timeout };
    ReadResult read_some(std::chrono::steady_clock::time_point deadline);
    void close();

    int fd_ = -1;
    std::uint16_t port_ = 0;
    std::string buffer_;
    bool peer_closed_ = false;
};

// One-shot GET on a new connection (HTTP/1.1, Host header, no Connection header).
Response http_get(std::uint16_t port,
                  std::string target,
                  std::chrono::milliseconds timeout = std::chrono::seconds(5));

// Builds a request: "METHOD target VERSION\r\nHost: 127.0.0.1\r\n" + headers + (a
// Content-Length line when body is not empty) + "\r\n" + body.
std::string make_request(std::string_view method,
                         std::string_view target,
                         const std::vector<std::pair<std::string, std::string>>& headers = {},
                         std::string_view body = {},
                         std::string_view version = "HTTP/1.1");

// Parses an RFC 9110 IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"), strictly: exact layout,
// valid calendar date and time, and a day name that matches the date. nullopt if invalid.
std::optional<std::time_t> parse_imf_fixdate(std::string_view value);

}  // namespace flamecpp::test
