#include "http_client.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstring>
#include <stdexcept>
#include <thread>

#include <arpa/inet.h>
#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/system/error_code.hpp>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "socket_util.hpp"

namespace flamecpp::test {
namespace {

namespace http = boost::beast::http;
using Clock = util::Clock;
using namespace util;  // the shared socket helpers

constexpr std::uint32_t kHeaderLimit = 64u << 20;  // 64 MiB: the client never limits the server
constexpr std::uint64_t kBodyLimit = 64u << 20;

bool has_token(std::string_view list, std::string_view token) {
    while (!list.empty()) {
        const auto comma = list.find(',');
        const std::string_view item = trim(list.substr(0, comma));
        if (iequals(item, token))
            return true;
        if (comma == std::string_view::npos)
            break;
        list.remove_prefix(comma + 1);
    }
    return false;
}

}  // namespace

std::optional<std::string> Response::header(std::string_view name) const {
    for (const auto& [key, value] : headers) {
        if (iequals(key, name))
            return value;
    }
    return std::nullopt;
}

std::size_t Response::header_count(std::string_view name) const {
    return static_cast<std::size_t>(std::count_if(
        headers.begin(), headers.end(), [&](const auto& h) { return iequals(h.first, name); }));
}

bool Response::header_has_token(std::string_view name, std::string_view token) const {
    for (const auto& [key, value] : headers) {
        if (iequals(key, name) && has_token(value, token))
            return true;
    }
    return false;
}

RawConnection::RawConnection(std::uint16_t port, std::chrono::milliseconds connect_timeout)
    : port_(port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd_ < 0)
        throw_errno("socket");
    const int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const auto deadline = Clock::now() + connect_timeout;
    int rc;
    do {
        rc = ::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
    } while (rc < 0 && errno == EINTR);
    if (rc < 0 && errno != EINPROGRESS) {
        const int err = errno;
        close();
        throw std::runtime_error("connect to 127.0.0.1:" + std::to_string(port) + ": " +
                                 std::strerror(err));
    }
    if (rc < 0) {
        pollfd p{fd_, POLLOUT, 0};
        int r;
        do {
            r = ::poll(&p, 1, poll_timeout(deadline));
        } while (r < 0 && errno == EINTR);
        int err = 0;
        socklen_t len = sizeof err;
        if (r == 0) {
            err = ETIMEDOUT;
        } else if (::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
            err = errno;
        }
        if (err != 0) {
            close();
            throw std::runtime_error("connect to 127.0.0.1:" + std::to_string(port) + ": " +
                                     std::strerror(err));
        }
    }
}

RawConnection::~RawConnection() { close(); }

RawConnection::RawConnection(RawConnection&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      port_(other.port_),
      buffer_(std::move(other.buffer_)),
      peer_closed_(other.peer_closed_) {}

RawConnection& RawConnection::operator=(RawConnection&& other) noexcept {
    if (this != &other) {
        close();
        fd_ = std::exchange(other.fd_, -1);
        port_ = other.port_;
        buffer_ = std::move(other.buffer_);
        peer_closed_ = other.peer_closed_;
    }
    return *this;
}

void RawConnection::close() {
    if (fd_ >= 0) {
        ::close(fd_);
        fd_ = -1;
    }
}

void RawConnection::send(std::string_view bytes, std::chrono::milliseconds timeout) {
    if (fd_ < 0)
        throw std::runtime_error("send on a closed connection");
    const int err = send_all(fd_, bytes, Clock::now() + timeout);
    if (err == ETIMEDOUT) {
        throw std::runtime_error("timed out sending " + std::to_string(bytes.size()) +
                                 " bytes (the server stopped reading)");
    }
    if (err != 0)
        throw std::runtime_error(std::string("send failed: ") + std::strerror(err));
}

bool RawConnection::try_send(std::string_view bytes, std::chrono::milliseconds timeout) {
    if (fd_ < 0)
        return false;
    return send_all(fd_, bytes, Clock::now() + timeout) == 0;
}

bool RawConnection::send_slowly(std::string_view bytes,
                                std::size_t chunk_size,
                                std::chrono::milliseconds gap) {
    chunk_size = std::max<std::size_t>(chunk_size, 1);
    bool first = true;
    while (!bytes.empty()) {
        if (!first)
            std::this_thread::sleep_for(gap);  // pacing, not waiting for readiness
        first = false;
        const auto piece = bytes.substr(0, chunk_size);
        if (!try_send(piece))
            return false;
        bytes.remove_prefix(piece.size());
    }
    return true;
}

void RawConnection::shutdown_write() {
    if (fd_ >= 0)
        ::shutdown(fd_, SHUT_WR);
}

RawConnection::ReadResult RawConnection::read_some(Clock::time_point deadline) {
    if (peer_closed_ || fd_ < 0)
        return ReadResult::closed;
    std::array<char, 64 * 1024> buf;
    for (;;) {
        const ssize_t n = ::recv(fd_, buf.data(), buf.size(), 0);
        if (n > 0) {
            buffer_.append(buf.data(), static_cast<std::size_t>(n));
            return ReadResult::data;
        }
        if (n == 0 || errno == ECONNRESET) {
            peer_closed_ = true;
            return ReadResult::closed;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            throw_errno("recv");
        const int wait_ms = poll_timeout(deadline);
        if (wait_ms == 0)
            return ReadResult::timeout;
        pollfd p{fd_, POLLIN, 0};
        const int r = ::poll(&p, 1, wait_ms);
        if (r < 0 && errno != EINTR)
            throw_errno("poll");
        if (r == 0)
            return ReadResult::timeout;
    }
}

Response RawConnection::read_response(std::chrono::milliseconds timeout, bool head_request) {
    http::response_parser<http::string_body> parser;
    parser.header_limit(kHeaderLimit);
    parser.body_limit(kBodyLimit);
    parser.eager(true);
    if (head_request)
        parser.skip(true);

    const auto deadline = Clock::now() + timeout;
    for (;;) {
        if (!buffer_.empty()) {
            boost::system::error_code ec;
            const std::size_t used =
                parser.put(boost::asio::buffer(buffer_.data(), buffer_.size()), ec);
            const std::string rejected = ec && ec != http::error::need_more ? preview(buffer_) : "";
            buffer_.erase(0, used);
            if (ec && ec != http::error::need_more) {
                throw std::runtime_error("invalid HTTP response (" + ec.message() + "): \"" +
                                         rejected + "\"");
            }
            if (parser.is_done())
                break;
            if (!ec && used > 0)
                continue;  // progress; parse what is left before reading
        }
        if (peer_closed_) {
            // put_eof() may only be called once the parser has seen bytes (Beast asserts it).
            if (!parser.got_some())
                throw std::runtime_error("connection closed before any response");
            boost::system::error_code ec;
            parser.put_eof(ec);
            if (!ec && parser.is_done())
                break;
            throw std::runtime_error("connection closed before the response was complete" +
                                     (ec ? " (" + ec.message() + ")" : std::string()));
        }
        if (read_some(deadline) == ReadResult::timeout) {
            throw std::runtime_error("timed out waiting for response");
        }
    }

    Response response;
    response.chunked = parser.chunked();
    auto message = parser.release();
    response.status = static_cast<int>(message.result_int());
    response.reason = std::string(message.reason());
    response.version = static_cast<int>(message.version());
    for (const auto& field : message) {
        response.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    response.body = std::move(message.body());
    return response;
}

bool RawConnection::wait_closed(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    for (;;) {
        switch (read_some(deadline)) {
            case ReadResult::closed:
                return true;
            case ReadResult::timeout:
                return false;
            case ReadResult::data:
                break;  // keep the bytes, keep waiting
        }
    }
}

Response http_get(std::uint16_t port, std::string target, std::chrono::milliseconds timeout) {
    RawConnection connection(port, timeout);
    connection.send(make_request("GET", target), timeout);
    return connection.read_response(timeout);
}

std::string make_request(std::string_view method,
                         std::string_view target,
                         const std::vector<std::pair<std::string, std::string>>& headers,
                         std::string_view body,
                         std::string_view version) {
    std::string out;
    out.reserve(128 + body.size());
    out.append(method).append(" ").append(target).append(" ").append(version).append("\r\n");
    out.append("Host: 127.0.0.1\r\n");
    for (const auto& [name, value] : headers)
        out.append(name).append(": ").append(value).append("\r\n");
    if (!body.empty())
        out.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
    out.append("\r\n");
    out.append(body);
    return out;
}

std::optional<std::time_t> parse_imf_fixdate(std::string_view v) {
    // "Sun, 06 Nov 1994 08:49:37 GMT": exactly 29 characters.
    static constexpr std::array<std::string_view, 7> kDays = {"Sun", "Mon", "Tue", "Wed",
                                                              "Thu", "Fri", "Sat"};
    static constexpr std::array<std::string_view, 12> kMonths = {
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    if (v.size() != 29)
        return std::nullopt;
    if (v.substr(3, 2) != ", " || v[7] != ' ' || v[11] != ' ' || v[16] != ' ' || v[19] != ':' ||
        v[22] != ':' || v.substr(25) != " GMT") {
        return std::nullopt;
    }
    auto number = [&](std::size_t pos, std::size_t len) -> int {
        int value = 0;
        for (std::size_t i = pos; i < pos + len; ++i) {
            if (v[i] < '0' || v[i] > '9')
                return -1;
            value = value * 10 + (v[i] - '0');
        }
        return value;
    };
    const auto day_name = std::find(kDays.begin(), kDays.end(), v.substr(0, 3));
    const auto month = std::find(kMonths.begin(), kMonths.end(), v.substr(8, 3));
    const int mday = number(5, 2);
    const int year = number(12, 4);
    const int hour = number(17, 2);
    const int minute = number(20, 2);
    const int second = number(23, 2);
    if (day_name == kDays.end() || month == kMonths.end() || mday < 1 || year < 1900 || hour < 0 ||
        hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 60) {
        return std::nullopt;
    }
    std::tm tm{};
    tm.tm_year = year - 1900;
    tm.tm_mon = static_cast<int>(month - kMonths.begin());
    tm.tm_mday = mday;
    tm.tm_hour = hour;
    tm.tm_min = minute;
    tm.tm_sec = second;
    const std::time_t t = ::timegm(&tm);
    std::tm check{};
    if (t == static_cast<std::time_t>(-1) || ::gmtime_r(&t, &check) == nullptr)
        return std::nullopt;
    // timegm() normalizes (Feb 30 -> Mar 2): reject dates that do not exist, and day names
    // that do not match the date.
    if (check.tm_mday != mday || check.tm_mon != tm.tm_mon ||
        check.tm_wday != static_cast<int>(day_name - kDays.begin())) {
        return std::nullopt;
    }
    return t;
}

}  // namespace flamecpp::test
