// Test-only blocking WebSocket clients on 127.0.0.1, every wait bounded by a timeout.
//
// - WsClient speaks RFC 6455 properly (Beast's websocket::stream underneath, kept out of this
//   header): handshake with subprotocols and extra headers, text/binary/fragmented messages,
//   pings, close handshake, and an abrupt drop of the TCP connection.
// - RawWebSocket performs the upgrade by hand over a plain socket and then sends whatever bytes
//   it is given (ws_frame() builds frames, hostile ones included) and parses the server's frames
//   one by one, so tests can send what no well-behaved client would.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace flamecpp::test {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// Any single wait of a WebSocket client (handshake, message, close).
inline constexpr std::chrono::milliseconds kWsIo{5000};

// The server answered the upgrade request with an HTTP status instead of 101.
class HandshakeRejected : public std::runtime_error {
public:
    HandshakeRejected(int status, HeaderList headers, std::string body);

    // The first header with that name (case-insensitive), if any.
    std::optional<std::string> header(std::string_view name) const;

    int status;
    HeaderList headers;  // in wire order
    std::string body;
};

// A message received from the server.
struct WsMessage {
    bool binary = false;
    std::string data;
};

// The end of the connection as the client saw it: the code of the server's close frame (1005
// when it carried none), or 1006 when the TCP connection ended without a close frame (then
// `reason` says what happened).
struct WsClosed {
    int code = 0;
    std::string reason;
};

// What WsClient::receive() got.
using WsEvent = std::variant<WsMessage, WsClosed>;

bool operator==(const WsMessage& a, const WsMessage& b);
// Close events compare by code only: the reason is free text.
bool operator==(const WsClosed& a, const WsClosed& b);
void PrintTo(const WsMessage& m, std::ostream* os);
void PrintTo(const WsClosed& c, std::ostream* os);
std::ostream& operator<<(std::ostream& os, const WsEvent& e);

// Shorthands for expectations: EXPECT_EQ(client.receive(), ws_text("hi")).
WsEvent ws_text(std::string data);
WsEvent ws_binary(std::string data);
WsEvent ws_closed(int code);

// A blocking RFC 6455 client.
class WsClient {
public:
    WsClient();
    // Drops the TCP connection if still open (no close handshake).
    ~WsClient();
    WsClient(WsClient&&) noexcept;
    WsClient& operator=(WsClient&&) noexcept;
    WsClient(const WsClient&) = delete;
    WsClient& operator=(const WsClient&) = delete;

    // Connects to 127.0.0.1:port and upgrades `target` (path and query), offering
    // `subprotocols` in that order (none: no Sec-WebSocket-Protocol header) and adding `headers`
    // to the request. Returns the subprotocol the server chose ("" if none). Throws
    // HandshakeRejected when the server answers with an HTTP status other than 101, and
    // std::runtime_error for any other failure or after `timeout`.
    std::string connect(std::uint16_t port,
                        std::string_view target,
                        std::vector<std::string> subprotocols = {},
                        HeaderList headers = {},
                        std::chrono::milliseconds timeout = kWsIo);

    // The headers of the server's 101 answer.
    const HeaderList& handshake_headers() const;
    std::optional<std::string> handshake_header(std::string_view name) const;

    // Each sends one whole message. Throw std::runtime_error if it cannot be sent in time or
    // the connection is gone.
    void send_text(std::string_view text, std::chrono::milliseconds timeout = kWsIo);
    void send_binary(std::string_view bytes, std::chrono::milliseconds timeout = kWsIo);
    // One frame of a fragmented message; the message is text or binary as its first frame
    // says (`binary` of later frames is ignored), and ends with the frame that has `fin`.
    void send_fragment(std::string_view payload,
                       bool binary,
                       bool fin,
                       std::chrono::milliseconds timeout = kWsIo);
    // Sends a ping. The pong is seen while receive() reads (see pongs()).
    void ping(std::string_view payload = {}, std::chrono::milliseconds timeout = kWsIo);
    // The payloads of the pongs received so far, in order.
    const std::vector<std::string>& pongs() const;

    // The next message, or the end of the connection (after a close frame from the server the
    // client answers it, as RFC 6455 asks). Throws std::runtime_error("timed out ...") when
    // nothing comes within `timeout`; after that the client is unusable.
    WsEvent receive(std::chrono::milliseconds timeout = kWsIo);

    // Sends a close frame with `code` (0: an empty close frame) and waits for the server's
    // close frame, skipping messages meanwhile. Returns what the server's close frame said.
    WsClosed close(int code = 1000,
                   std::string_view reason = {},
                   std::chrono::milliseconds timeout = kWsIo);

    // Ends the TCP connection at once, without a close frame.
    void drop();

    // True between a successful connect() and the end of the connection.
    bool is_open() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// ---------------------------------------------------------------------------------------------
// Raw frames, for hostile input.

namespace opcode {
inline constexpr int continuation = 0x0;
inline constexpr int text = 0x1;
inline constexpr int binary = 0x2;
inline constexpr int close = 0x8;
inline constexpr int ping = 0x9;
inline constexpr int pong = 0xA;
}  // namespace opcode

// RSV bits as they sit in the first byte of a frame header (RFC 6455 5.2).
inline constexpr int kRsv1 = 0x40;
inline constexpr int kRsv2 = 0x20;
inline constexpr int kRsv3 = 0x10;

// One frame on the wire: FIN, RSV bits (`rsv` is or-ed in as given, e.g. kRsv1), the opcode
// (any 4-bit value), the length in the shortest form, and when `masked` a fixed non-zero mask
// key with the payload masked by it.
std::string ws_frame(
    int opcode, std::string_view payload, bool fin = true, bool masked = true, int rsv = 0);

// The payload of a close frame: the code in network order, then the reason.
std::string close_payload(int code, std::string_view reason = {});

// An upgrade request for `target` as a browser sends it (GET, Host, Upgrade: websocket,
// Connection: Upgrade, a valid Sec-WebSocket-Key, Sec-WebSocket-Version: 13). A header of
// `headers` whose name is one of those (case-insensitive) replaces it; the others are added.
// Headers named in `omit` are left out.
std::string upgrade_request(std::string_view target,
                            const HeaderList& headers = {},
                            const std::vector<std::string>& omit = {});

// One frame as the server sent it.
struct RawFrame {
    bool fin = false;
    int rsv = 0;  // the RSV bits, in place (see kRsv1)
    int opcode = 0;
    bool masked = false;
    std::string payload;  // unmasked

    // For a close frame: its code, or 1005 when the payload is empty.
    int close_code() const;
};
void PrintTo(const RawFrame& f, std::ostream* os);

// A WebSocket connection whose upgrade is done by hand over a plain socket.
class RawWebSocket {
public:
    // Connects to 127.0.0.1:port, sends upgrade_request(target, headers) and reads the answer.
    // Returns when the 101 has arrived (bytes after it are kept for read_frame()). Throws
    // HandshakeRejected for any other status, std::runtime_error on failure or timeout.
    RawWebSocket(std::uint16_t port,
                 std::string_view target,
                 const HeaderList& headers = {},
                 std::chrono::milliseconds timeout = kWsIo);
    ~RawWebSocket();
    RawWebSocket(RawWebSocket&&) noexcept;
    RawWebSocket& operator=(RawWebSocket&&) noexcept;
    RawWebSocket(const RawWebSocket&) = delete;
    RawWebSocket& operator=(const RawWebSocket&) = delete;

    const HeaderList& handshake_headers() const;

    // Sends the bytes as given. Returns false when the peer is gone or stopped reading.
    bool send(std::string_view bytes, std::chrono::milliseconds timeout = kWsIo);

    // The next frame from the server; nullopt once the server ended the TCP connection.
    // Throws std::runtime_error on timeout or when the bytes are not a frame a server may send.
    std::optional<RawFrame> read_frame(std::chrono::milliseconds timeout = kWsIo);

    // Reads frames until the server's close frame and returns its code (1005 when the frame
    // carried none), or 1006 when the TCP connection ended before one. Frames read before it
    // are appended to skipped(). Throws std::runtime_error on timeout.
    int read_close_code(std::chrono::milliseconds timeout = kWsIo);
    const std::vector<RawFrame>& skipped() const { return skipped_; }

    // Waits until the server ends the TCP connection, discarding what it sends meanwhile.
    // Returns false if it is still open after `timeout`.
    bool wait_closed(std::chrono::milliseconds timeout = kWsIo);

    // Ends the TCP connection at once.
    void drop();
    // Sends FIN (shutdown(2) for writing) and keeps the socket, unread bytes and all.
    void shutdown_write();

private:
    enum class ReadResult { data, closed, timeout };
    void handshake(std::uint16_t port,
                   std::string_view target,
                   const HeaderList& headers,
                   std::chrono::milliseconds timeout);
    ReadResult read_some(std::chrono::steady_clock::time_point deadline);

    int fd_ = -1;
    std::string buffer_;
    HeaderList handshake_headers_;
    std::vector<RawFrame> skipped_;
    bool peer_closed_ = false;
};

}  // namespace flamecpp::test
