#include "ws_client.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstring>
#include <utility>

#include <arpa/inet.h>
#include <boost/asio/buffer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address_v4.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/websocket/error.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <boost/system/error_code.hpp>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "socket_util.hpp"

namespace flamecpp::test {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using asio::ip::tcp;
using boost::system::error_code;
using Clock = util::Clock;
using namespace util;  // the shared socket helpers

std::optional<std::string> find_header(const HeaderList& headers, std::string_view name) {
    for (const auto& [key, value] : headers) {
        if (iequals(key, name))
            return value;
    }
    return std::nullopt;
}

template <class Fields>
HeaderList headers_of(const Fields& fields) {
    HeaderList out;
    for (const auto& field : fields) {
        out.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Results

HandshakeRejected::HandshakeRejected(int status_code, HeaderList header_list, std::string text)
    : std::runtime_error("the server answered the WebSocket upgrade with HTTP " +
                         std::to_string(status_code) + ": " + preview(text)),
      status(status_code),
      headers(std::move(header_list)),
      body(std::move(text)) {}

std::optional<std::string> HandshakeRejected::header(std::string_view name) const {
    return find_header(headers, name);
}

bool operator==(const WsMessage& a, const WsMessage& b) {
    return a.binary == b.binary && a.data == b.data;
}

bool operator==(const WsClosed& a, const WsClosed& b) { return a.code == b.code; }

void PrintTo(const WsMessage& m, std::ostream* os) {
    *os << (m.binary ? "binary" : "text") << " message of " << m.data.size() << " bytes \""
        << preview(m.data) << "\"";
}

void PrintTo(const WsClosed& c, std::ostream* os) {
    *os << "closed with " << c.code;
    if (!c.reason.empty())
        *os << " (" << preview(c.reason) << ")";
}

std::ostream& operator<<(std::ostream& os, const WsEvent& e) {
    std::visit([&os](const auto& alternative) { PrintTo(alternative, &os); }, e);
    return os;
}

WsEvent ws_text(std::string data) { return WsMessage{false, std::move(data)}; }
WsEvent ws_binary(std::string data) { return WsMessage{true, std::move(data)}; }
WsEvent ws_closed(int code) { return WsClosed{code, {}}; }

// ---------------------------------------------------------------------------------------------
// WsClient: Beast's client, each operation run on a private io_context for at most `timeout`.

struct WsClient::Impl {
    asio::io_context io;
    websocket::stream<tcp::socket> ws{io};
    beast::flat_buffer buffer;
    HeaderList handshake_headers;
    std::vector<std::string> pongs;
    bool open = false;

    void shut() {
        error_code ignored;
        ws.next_layer().shutdown(tcp::socket::shutdown_both, ignored);
        ws.next_layer().close(ignored);
        open = false;
    }

    // Starts the operation, runs it for at most `timeout`, and returns its error code. On
    // timeout the socket is closed (which aborts the operation) and std::runtime_error thrown.
    template <class Start>
    error_code run(std::chrono::milliseconds timeout, const std::string& what, Start&& start) {
        // Shared: after a timeout the aborted operation may complete later, during another run.
        auto result = std::make_shared<std::optional<error_code>>();
        std::forward<Start>(start)([result](error_code ec, auto&&...) { *result = ec; });
        io.restart();
        io.run_for(timeout);
        if (!*result) {
            shut();
            io.restart();
            io.run_for(std::chrono::seconds(1));  // lets the aborted operation complete
            throw std::runtime_error("timed out after " + std::to_string(timeout.count()) + " ms " +
                                     what);
        }
        return **result;
    }

    void require_open(const char* what) const {
        if (!open) {
            throw std::runtime_error(std::string("WsClient::") + what +
                                     " on a connection that is not open");
        }
    }
};

WsClient::WsClient() : impl_(std::make_unique<Impl>()) {}
WsClient::~WsClient() {
    if (impl_)
        impl_->shut();
}
WsClient::WsClient(WsClient&&) noexcept = default;
WsClient& WsClient::operator=(WsClient&&) noexcept = default;

std::string WsClient::connect(std::uint16_t port,
                              std::string_view target,
                              std::vector<std::string> subprotocols,
                              HeaderList headers,
                              std::chrono::milliseconds timeout) {
    Impl& d = *impl_;
    if (d.open)
        throw std::runtime_error("WsClient::connect on a connection that is already open");
    const auto deadline = Clock::now() + timeout;
    const auto left = [&] {
        return std::max(
            std::chrono::milliseconds(1),
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()));
    };
    const tcp::endpoint endpoint(asio::ip::address_v4::loopback(), port);
    error_code ec = d.run(left(), "connecting", [&](auto handler) {
        d.ws.next_layer().async_connect(endpoint, std::move(handler));
    });
    if (ec)
        throw std::runtime_error("connecting to 127.0.0.1:" + std::to_string(port) + ": " +
                                 ec.message());
    error_code ignored;
    d.ws.next_layer().set_option(tcp::no_delay(true), ignored);

    std::string offered;
    for (const auto& p : subprotocols) {
        offered += (offered.empty() ? "" : ", ") + p;
    }
    d.ws.set_option(websocket::stream_base::decorator(
        [offered, extra = std::move(headers)](websocket::request_type& req) {
            if (!offered.empty())
                req.set(http::field::sec_websocket_protocol, offered);
            for (const auto& [name, value] : extra) req.insert(name, value);
        }));
    d.ws.control_callback([&d](websocket::frame_type kind, beast::string_view payload) {
        if (kind == websocket::frame_type::pong)
            d.pongs.emplace_back(payload.data(), payload.size());
    });

    websocket::response_type res;
    res.result(0u);  // stays 0 unless an answer was parsed
    const std::string host = "127.0.0.1:" + std::to_string(port);
    ec = d.run(left(), "waiting for the handshake answer",
               [&](auto handler) { d.ws.async_handshake(res, host, target, std::move(handler)); });
    if (ec) {
        d.shut();
        if (res.result_int() != 0 && res.result_int() != 101) {
            throw HandshakeRejected(static_cast<int>(res.result_int()), headers_of(res),
                                    res.body());
        }
        throw std::runtime_error("WebSocket handshake failed: " + ec.message() +
                                 (res.result_int() == 0
                                      ? std::string()
                                      : " (status " + std::to_string(res.result_int()) + ")"));
    }
    d.open = true;
    d.handshake_headers = headers_of(res);
    return std::string(find_header(d.handshake_headers, "Sec-WebSocket-Protocol").value_or(""));
}

const HeaderList& WsClient::handshake_headers() const { return impl_->handshake_headers; }

std::optional<std::string> WsClient::handshake_header(std::string_view name) const {
    return find_header(impl_->handshake_headers, name);
}

void WsClient::send_text(std::string_view text, std::chrono::milliseconds timeout) {
    Impl& d = *impl_;
    d.require_open("send_text");
    d.ws.text(true);
    const error_code ec = d.run(timeout, "sending a text message", [&](auto handler) {
        d.ws.async_write(asio::buffer(text.data(), text.size()), std::move(handler));
    });
    if (ec)
        throw std::runtime_error("sending a text message failed: " + ec.message());
}

void WsClient::send_binary(std::string_view bytes, std::chrono::milliseconds timeout) {
    Impl& d = *impl_;
    d.require_open("send_binary");
    d.ws.binary(true);
    const error_code ec = d.run(timeout, "sending a binary message", [&](auto handler) {
        d.ws.async_write(asio::buffer(bytes.data(), bytes.size()), std::move(handler));
    });
    if (ec)
        throw std::runtime_error("sending a binary message failed: " + ec.message());
}

void WsClient::send_fragment(std::string_view payload,
                             bool binary,
                             bool fin,
                             std::chrono::milliseconds timeout) {
    Impl& d = *impl_;
    d.require_open("send_fragment");
    d.ws.binary(binary);
    const error_code ec = d.run(timeout, "sending a fragment", [&](auto handler) {
        d.ws.async_write_some(fin, asio::buffer(payload.data(), payload.size()),
                              std::move(handler));
    });
    if (ec)
        throw std::runtime_error("sending a fragment failed: " + ec.message());
}

void WsClient::ping(std::string_view payload, std::chrono::milliseconds timeout) {
    Impl& d = *impl_;
    d.require_open("ping");
    const websocket::ping_data data(payload.data(), payload.size());
    const error_code ec = d.run(timeout, "sending a ping",
                                [&](auto handler) { d.ws.async_ping(data, std::move(handler)); });
    if (ec)
        throw std::runtime_error("sending a ping failed: " + ec.message());
}

const std::vector<std::string>& WsClient::pongs() const { return impl_->pongs; }

WsEvent WsClient::receive(std::chrono::milliseconds timeout) {
    Impl& d = *impl_;
    d.require_open("receive");
    d.buffer.clear();
    const error_code ec = d.run(timeout, "waiting for a WebSocket message", [&](auto handler) {
        d.ws.async_read(d.buffer, std::move(handler));
    });
    if (!ec) {
        return WsMessage{!d.ws.got_text(), beast::buffers_to_string(d.buffer.data())};
    }
    if (ec == websocket::error::closed) {
        const websocket::close_reason& reason = d.ws.reason();
        d.shut();
        const int code =
            reason.code == websocket::close_code::none ? 1005 : static_cast<int>(reason.code);
        return WsClosed{code, std::string(reason.reason.data(), reason.reason.size())};
    }
    d.shut();
    return WsClosed{1006, "no close frame: " + ec.message()};
}

WsClosed WsClient::close(int code, std::string_view reason, std::chrono::milliseconds timeout) {
    Impl& d = *impl_;
    d.require_open("close");
    websocket::close_reason ours;
    if (code != 0) {
        ours.code = static_cast<websocket::close_code>(code);
        ours.reason.assign(reason.data(), std::min<std::size_t>(reason.size(), 123));
    }
    const error_code ec = d.run(timeout, "waiting for the server's close frame",
                                [&](auto handler) { d.ws.async_close(ours, std::move(handler)); });
    if (ec) {
        d.shut();
        return WsClosed{1006, "no close frame: " + ec.message()};
    }
    const websocket::close_reason& theirs = d.ws.reason();
    WsClosed result{
        theirs.code == websocket::close_code::none ? 1005 : static_cast<int>(theirs.code),
        std::string(theirs.reason.data(), theirs.reason.size())};
    d.shut();
    return result;
}

void WsClient::drop() { impl_->shut(); }

bool WsClient::is_open() const { return impl_ && impl_->open; }

// ---------------------------------------------------------------------------------------------
// Raw frames

std::string ws_frame(int op, std::string_view payload, bool fin, bool masked, int rsv) {
    std::string out;
    out += static_cast<char>((fin ? 0x80 : 0) | (rsv & 0x70) | (op & 0x0f));
    const std::uint64_t n = payload.size();
    const char mask_bit = masked ? static_cast<char>(0x80) : 0;
    if (n < 126) {
        out += static_cast<char>(mask_bit | static_cast<char>(n));
    } else if (n <= 0xffff) {
        out += static_cast<char>(mask_bit | 126);
        out += static_cast<char>((n >> 8) & 0xff);
        out += static_cast<char>(n & 0xff);
    } else {
        out += static_cast<char>(mask_bit | 127);
        for (int shift = 56; shift >= 0; shift -= 8) out += static_cast<char>((n >> shift) & 0xff);
    }
    if (!masked) {
        out.append(payload);
        return out;
    }
    static constexpr std::array<unsigned char, 4> kMask = {0x37, 0xfa, 0x21, 0x3d};
    for (unsigned char m : kMask) out += static_cast<char>(m);
    for (std::size_t i = 0; i < payload.size(); ++i) {
        out += static_cast<char>(static_cast<unsigned char>(payload[i]) ^ kMask[i % 4]);
    }
    return out;
}

std::string close_payload(int code, std::string_view reason) {
    std::string out;
    out += static_cast<char>((code >> 8) & 0xff);
    out += static_cast<char>(code & 0xff);
    out.append(reason);
    return out;
}

std::string upgrade_request(std::string_view target,
                            const HeaderList& headers,
                            const std::vector<std::string>& omit) {
    HeaderList all = {
        {"Host", "127.0.0.1"},           {"Upgrade", "websocket"},
        {"Connection", "Upgrade"},       {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
        {"Sec-WebSocket-Version", "13"},
    };
    for (const auto& [name, value] : headers) {
        auto it = std::find_if(all.begin(), all.end(),
                               [&](const auto& h) { return iequals(h.first, name); });
        if (it != all.end()) {
            it->second = value;
        } else {
            all.emplace_back(name, value);
        }
    }
    std::string out = "GET " + std::string(target) + " HTTP/1.1\r\n";
    for (const auto& [name, value] : all) {
        const bool omitted = std::any_of(omit.begin(), omit.end(),
                                         [&](const std::string& o) { return iequals(o, name); });
        if (!omitted)
            out += name + ": " + value + "\r\n";
    }
    out += "\r\n";
    return out;
}

int RawFrame::close_code() const {
    if (payload.size() < 2)
        return 1005;
    return (static_cast<unsigned char>(payload[0]) << 8) | static_cast<unsigned char>(payload[1]);
}

void PrintTo(const RawFrame& f, std::ostream* os) {
    *os << "frame{opcode " << f.opcode << (f.fin ? ", fin" : "") << (f.masked ? ", masked" : "")
        << (f.rsv != 0 ? ", rsv " + std::to_string(f.rsv) : std::string()) << ", "
        << f.payload.size() << " bytes \"" << preview(f.payload) << "\"}";
}

// ---------------------------------------------------------------------------------------------
// RawWebSocket

namespace {}  // namespace

RawWebSocket::RawWebSocket(std::uint16_t port,
                           std::string_view target,
                           const HeaderList& headers,
                           std::chrono::milliseconds timeout) {
    try {
        handshake(port, target, headers, timeout);
    } catch (...) {
        drop();
        throw;
    }
}

void RawWebSocket::handshake(std::uint16_t port,
                             std::string_view target,
                             const HeaderList& headers,
                             std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd_ < 0)
        throw_errno("socket");
    const int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
        if (errno != EINPROGRESS) {
            throw_errno("connect to 127.0.0.1:" + std::to_string(port));
        }
        pollfd p{fd_, POLLOUT, 0};
        const int ready = ::poll(&p, 1, poll_timeout(deadline));
        int error = 0;
        socklen_t len = sizeof error;
        ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &len);
        if (ready <= 0 || error != 0) {
            throw std::runtime_error("connect to 127.0.0.1:" + std::to_string(port) + ": " +
                                     (ready <= 0 ? "timed out" : std::strerror(error)));
        }
    }

    if (const int error = send_all(fd_, upgrade_request(target, headers), deadline); error != 0) {
        throw std::runtime_error(std::string("sending the upgrade request: ") +
                                 std::strerror(error));
    }

    // The answer's head.
    std::size_t end = std::string::npos;
    while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
        const ReadResult r = read_some(deadline);
        if (r == ReadResult::timeout)
            throw std::runtime_error("timed out waiting for the handshake answer; got \"" +
                                     preview(buffer_) + "\"");
        if (r == ReadResult::closed)
            throw std::runtime_error("the server closed before answering the upgrade; got \"" +
                                     preview(buffer_) + "\"");
    }
    const std::string head = buffer_.substr(0, end + 2);
    buffer_.erase(0, end + 4);
    const std::size_t line_end = head.find("\r\n");
    const std::string status_line = head.substr(0, line_end);
    if (status_line.rfind("HTTP/1.", 0) != 0 || status_line.size() < 12)
        throw std::runtime_error("not an HTTP answer: \"" + preview(status_line) + "\"");
    const int status = std::stoi(status_line.substr(9, 3));
    for (std::size_t pos = line_end + 2; pos < head.size();) {
        const std::size_t next = head.find("\r\n", pos);
        const std::string_view line = std::string_view(head).substr(pos, next - pos);
        const std::size_t colon = line.find(':');
        if (colon != std::string_view::npos) {
            handshake_headers_.emplace_back(std::string(trim(line.substr(0, colon))),
                                            std::string(trim(line.substr(colon + 1))));
        }
        pos = next + 2;
    }
    if (status == 101)
        return;

    // A refusal: its body, as Content-Length says (or up to the close).
    const auto length = find_header(handshake_headers_, "Content-Length");
    const std::size_t want = length ? std::stoul(*length) : std::string::npos;
    while (buffer_.size() < want) {
        if (read_some(deadline) != ReadResult::data)
            break;
    }
    std::string body = buffer_.substr(0, std::min(want, buffer_.size()));
    throw HandshakeRejected(status, handshake_headers_, std::move(body));
}

RawWebSocket::~RawWebSocket() { drop(); }

RawWebSocket::RawWebSocket(RawWebSocket&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      buffer_(std::move(other.buffer_)),
      handshake_headers_(std::move(other.handshake_headers_)),
      skipped_(std::move(other.skipped_)),
      peer_closed_(other.peer_closed_) {}

RawWebSocket& RawWebSocket::operator=(RawWebSocket&& other) noexcept {
    if (this != &other) {
        drop();
        fd_ = std::exchange(other.fd_, -1);
        buffer_ = std::move(other.buffer_);
        handshake_headers_ = std::move(other.handshake_headers_);
        skipped_ = std::move(other.skipped_);
        peer_closed_ = other.peer_closed_;
    }
    return *this;
}

const HeaderList& RawWebSocket::handshake_headers() const { return handshake_headers_; }

bool RawWebSocket::send(std::string_view bytes, std::chrono::milliseconds timeout) {
    if (fd_ < 0)
        return false;
    return send_all(fd_, bytes, Clock::now() + timeout) == 0;
}

RawWebSocket::ReadResult RawWebSocket::read_some(Clock::time_point deadline) {
    if (fd_ < 0 || peer_closed_)
        return ReadResult::closed;
    std::array<char, 16 * 1024> chunk{};
    for (;;) {
        const ssize_t n = ::recv(fd_, chunk.data(), chunk.size(), 0);
        if (n > 0) {
            buffer_.append(chunk.data(), static_cast<std::size_t>(n));
            return ReadResult::data;
        }
        if (n == 0) {
            peer_closed_ = true;
            return ReadResult::closed;
        }
        if (errno == EINTR)
            continue;
        if (errno == ECONNRESET || errno == EPIPE) {
            peer_closed_ = true;
            return ReadResult::closed;
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            throw_errno("recv");
        const int wait_ms = poll_timeout(deadline);
        if (wait_ms == 0)
            return ReadResult::timeout;
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, wait_ms) < 0 && errno != EINTR)
            throw_errno("poll");
    }
}

std::optional<RawFrame> RawWebSocket::read_frame(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    // Makes sure `n` bytes are buffered: false if the connection ends first.
    const auto need = [&](std::size_t n) {
        while (buffer_.size() < n) {
            const ReadResult r = read_some(deadline);
            if (r == ReadResult::timeout) {
                throw std::runtime_error("timed out after " + std::to_string(timeout.count()) +
                                         " ms waiting for a frame; have \"" + preview(buffer_) +
                                         "\"");
            }
            if (r == ReadResult::closed)
                return false;
        }
        return true;
    };
    if (!need(2)) {
        if (buffer_.empty())
            return std::nullopt;
        throw std::runtime_error("the connection ended inside a frame header: \"" +
                                 preview(buffer_) + "\"");
    }
    const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(buffer_[i]); };
    RawFrame frame;
    frame.fin = (byte(0) & 0x80) != 0;
    frame.rsv = byte(0) & 0x70;
    frame.opcode = byte(0) & 0x0f;
    frame.masked = (byte(1) & 0x80) != 0;
    std::uint64_t length = byte(1) & 0x7f;
    std::size_t header = 2;
    if (length == 126) {
        header = 4;
    } else if (length == 127) {
        header = 10;
    }
    if (frame.masked)
        header += 4;
    if (!need(header))
        throw std::runtime_error("the connection ended inside a frame header");
    if (length == 126) {
        length = (std::uint64_t{byte(2)} << 8) | byte(3);
    } else if (length == 127) {
        length = 0;
        for (std::size_t i = 2; i < 10; ++i) length = (length << 8) | byte(i);
    }
    constexpr std::uint64_t kMaxFrame = 64u << 20;
    if (length > kMaxFrame)
        throw std::runtime_error("the server sent a frame of " + std::to_string(length) + " bytes");
    if (!need(header + length))
        throw std::runtime_error("the connection ended inside a frame's payload");
    frame.payload = buffer_.substr(header, length);
    if (frame.masked) {
        for (std::size_t i = 0; i < frame.payload.size(); ++i) {
            frame.payload[i] = static_cast<char>(static_cast<unsigned char>(frame.payload[i]) ^
                                                 byte(header - 4 + i % 4));
        }
    }
    buffer_.erase(0, header + length);
    return frame;
}

int RawWebSocket::read_close_code(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    for (;;) {
        const auto left = std::max(
            std::chrono::milliseconds(1),
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()));
        std::optional<RawFrame> frame = read_frame(left);
        if (!frame)
            return 1006;
        if (frame->opcode == opcode::close) {
            // Completes the close handshake, as a client must (RFC 6455 5.5.1).
            const int code = frame->close_code();
            send(ws_frame(opcode::close, code == 1005 ? std::string() : close_payload(code)),
                 std::chrono::milliseconds(500));
            return code;
        }
        skipped_.push_back(std::move(*frame));
    }
}

bool RawWebSocket::wait_closed(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    for (;;) {
        const ReadResult r = read_some(deadline);
        if (r == ReadResult::closed)
            return true;
        if (r == ReadResult::timeout)
            return false;
        buffer_.clear();
    }
}

void RawWebSocket::drop() {
    if (fd_ >= 0) {
        ::close(fd_);
        fd_ = -1;
    }
}

void RawWebSocket::shutdown_write() {
    if (fd_ >= 0) {
        ::shutdown(fd_, SHUT_WR);
    }
}

}  // namespace flamecpp::test
