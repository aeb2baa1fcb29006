#pragma once

/// @file
/// WebSocket connections: the `WebSocket` handle, messages, close codes.

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <flamecpp/request.hpp>
#include <flamecpp/task.hpp>

namespace boost::json {
class value;
}

namespace flamecpp {

/// A WebSocket close code (RFC 6455 7.4). Any value is allowed; the names cover the ones the
/// framework sends. `Code` is also what a handler parameter of that type receives: the code
/// that closed the connection.
enum class Code : std::uint16_t {
    normal = 1000,            ///< a normal close: the conversation is over
    going_away = 1001,        ///< server shutdown or idle timeout
    protocol_error = 1002,    ///< a frame broke RFC 6455
    unsupported_data = 1003,  ///< a message the endpoint's encoding cannot decode
    no_status = 1005,         ///< the peer's close frame carried no code
    abnormal = 1006,          ///< the connection ended without a close frame
    invalid_payload = 1007,   ///< a text message that is not UTF-8
    policy_violation = 1008,  ///< the peer broke the endpoint's policy (here: a full send queue)
    message_too_big = 1009,   ///< over the app's WebSocket message limit
    internal_error = 1011,    ///< a handler threw
    try_again_later = 1013,   ///< a temporary condition (overload): the client may retry
};

/// How a WebSocketEndpoint (or a function view taking `Data`) wants messages decoded.
enum class Encoding : std::uint8_t {
    none,   ///< text stays text, binary stays binary
    text,   ///< text frames only; binary closes with 1003
    bytes,  ///< binary frames only; text closes with 1003
    json,   ///< a JSON document in a text (or UTF-8 binary) frame; anything else closes 1003
};

/// One received message: its payload, whether it came as binary, and for the json encoding
/// the parsed value (include <flamecpp/json.hpp> to use it).
class Data {
public:
    /// An empty text message.
    Data() = default;
    /// A message of `payload`, binary or text (for tests of code that takes a Data).
    Data(std::string payload, bool binary) : payload_(std::move(payload)), binary_(binary) {}

    /// The payload as received (text or bytes).
    const std::string& str() const& noexcept { return payload_; }
    /// The payload, moved out of a Data about to go (`std::move(data).str()`).
    std::string str() && noexcept { return std::move(payload_); }
    /// The payload's bytes.
    std::span<const std::byte> bytes() const noexcept {
        return std::as_bytes(std::span(payload_.data(), payload_.size()));
    }
    /// True when the message came in binary frames.
    bool is_binary() const noexcept { return binary_; }
    /// True when the message came in text frames (valid UTF-8).
    bool is_text() const noexcept { return !binary_; }
    /// True when the endpoint's encoding is json.
    bool has_json() const noexcept { return json_ != nullptr; }
    /// The parsed JSON value; only with the json encoding (throws std::logic_error otherwise).
    const boost::json::value& json() const;

    /// Internal: attaches the parsed value (src/ owns its lifetime).
    void set_json(std::shared_ptr<const boost::json::value> value) noexcept {
        json_ = std::move(value);
    }

private:
    std::string payload_;
    bool binary_ = false;
    std::shared_ptr<const boost::json::value> json_;
};

/// Thrown by `WebSocket::receive*` when the connection has closed, as Starlette's
/// WebSocketDisconnect: it carries the close code (the peer's, or the one the server sent).
class WebSocketDisconnect : public std::runtime_error {
public:
    /// The message (what()) says "WebSocket closed with code `code`: `reason`".
    explicit WebSocketDisconnect(Code code, std::string reason = {});
    /// The close code: the peer's, or the one the server sent.
    Code code() const noexcept { return code_; }
    /// The close reason that came with the code (may be empty).
    const std::string& reason() const noexcept { return reason_; }

private:
    Code code_;
    std::string reason_;
};

/// How a WebSocket connection closes when its handler threw after accepting: what a WebSocket
/// exception handler (App::websocket_exception_handler) returns.
struct WebSocketClose {
    Code code = Code::internal_error;  ///< the close code sent
    std::string reason;                ///< at most 123 bytes of UTF-8 (RFC 6455 5.5); longer is cut
};

namespace detail {
class WebSocketSession;
struct WebSocketAccess;
}  // namespace detail

/// A WebSocket connection as a handler sees it. Before `accept()` the request (headers, path
/// and query parameters) and the offered subprotocols can be read; `close()` before accepting
/// refuses the handshake with 403. Sends may come from any task, on any thread: frames go out
/// in the order the sends reach the connection and never interleave. Misuse (sending before
/// accept, accepting twice, receiving from another thread) throws std::logic_error.
///
/// Two ways to send:
/// - `send_text`/`send_bytes`/`send_json` wait until the kernel has taken the frame. When the
///   connection ends first (the peer leaves, resets, breaks the protocol or idles out, the
///   server stops) they throw WebSocketDisconnect, on the sender's own thread.
/// - `queue_text`/`queue_bytes`/`queue_json` return at once: the message joins the
///   connection's send queue, bounded by `Limits::websocket_send_queue_bytes`. Use them to
///   send to many clients: a client that does not read fills its own queue and is closed
///   with 1008 (`Limits::websocket_queue_full`), and never stalls the sender.
///
/// A `WebSocket` is a handle: copies refer to the same connection and keep it safe to use
/// (a send on a closed connection throws WebSocketDisconnect), so a chat can keep copies of
/// its clients' handles and remove them in `on_disconnect`.
///
/// @code
/// flamecpp::Task<void> chat(flamecpp::WebSocket& ws) {
///     co_await ws.accept();
///     for (;;) {
///         auto text = co_await ws.receive_text();   // WebSocketDisconnect ends the loop
///         co_await ws.send_text("Message text was: " + text);
///     }
/// }
/// @endcode
class WebSocket {
public:
    /// Where the connection is in its life.
    enum class State : std::uint8_t {
        connecting,  ///< the handshake is not answered yet: accept() or close() (403)
        connected,   ///< accepted: messages flow, until either side closes
        closed       ///< the connection has ended (close handshake done, or the socket gone)
    };

    /// Internal: the server makes the handle a handler receives.
    explicit WebSocket(std::shared_ptr<detail::WebSocketSession> session) noexcept
        : session_(std::move(session)) {}

    /// The upgrade request: headers, path parameters, query.
    const Request& request() const noexcept;
    /// The subprotocols the client offered (Sec-WebSocket-Protocol), in its order.
    std::span<const std::string> subprotocols() const noexcept;
    /// Where the connection is: connecting, connected or closed.
    State state() const noexcept;

    /// Completes the handshake, optionally choosing one offered subprotocol and adding
    /// response headers.
    Task<void> accept(std::string subprotocol = {},
                      std::vector<std::pair<std::string, std::string>> headers = {});
    /// Sends a close frame (or refuses the handshake with 403 before accept).
    Task<void> close(Code code = Code::normal, std::string reason = {});

    /// Sends a text message; returns once the kernel has taken it. Throws WebSocketDisconnect
    /// if the connection is closed or ends before that.
    Task<void> send_text(std::string text);
    /// Sends a binary message, as send_text.
    Task<void> send_bytes(std::string bytes);
    /// Serializes `value` (Boost.JSON) and sends it as a text message, as send_text.
    Task<void> send_json(const boost::json::value& value);

    /// Queues a text message and returns at once. True: it is queued (or already written).
    /// False: the connection is closing or closed, or its send queue is full (the message is
    /// dropped, and with QueueFull::close the connection closes with 1008). From a thread other
    /// than the connection's, true means the connection was open when the message was handed
    /// over; it may still close before the message goes out.
    bool queue_text(std::string text);
    /// Queues a binary message, as queue_text.
    bool queue_bytes(std::string bytes);
    /// Serializes `value` (Boost.JSON) and queues it as a text message, as queue_text.
    bool queue_json(const boost::json::value& value);

    /// The next message, text or binary. Throws WebSocketDisconnect once closed.
    Task<Data> receive();
    /// The next message, which must be text (a binary one closes with 1003).
    Task<std::string> receive_text();
    /// The next message, which must be binary (a text one closes with 1003).
    Task<std::string> receive_bytes();
    /// The next message parsed as JSON with simdjson (not JSON: close 1003).
    Task<Data> receive_json();

    /// The close code once closed: the peer's, or the one the server sent.
    std::optional<Code> close_code() const noexcept;
    /// The close reason that came with `close_code()`.
    std::string_view close_reason() const noexcept;

    /// Handles compare equal when they refer to the same connection.
    bool operator==(const WebSocket& other) const noexcept { return session_ == other.session_; }

private:
    friend struct detail::WebSocketAccess;
    std::shared_ptr<detail::WebSocketSession> session_;
};

}  // namespace flamecpp
