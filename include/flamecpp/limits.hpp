#pragma once

/// @file
/// Per-app limits on what clients may send. docs/limits.md lists each with its answer.

#include <chrono>
#include <cstddef>

namespace flamecpp {

/// What `WebSocket::queue_text` (and `queue_bytes`, `queue_json`) does with a message when the
/// connection's send queue already holds `Limits::websocket_send_queue_bytes`.
enum class QueueFull : unsigned char {
    close,  ///< drop the queued messages and close the connection with 1008 (policy violation)
    drop,   ///< drop this message; the connection and what is queued stay
};

/// The limits an app enforces on every connection. Defaults follow the samples' contract.
struct Limits {
    /// Request line plus header fields; over it: 431 and close.
    std::size_t max_header_bytes = std::size_t{16} * 1024;
    /// Request body, declared or streamed; over it: 413 and close.
    std::size_t max_body_bytes = std::size_t{1024} * 1024;
    /// From the first byte of a request until its header is complete; then 408 and close.
    std::chrono::milliseconds header_timeout{10'000};
    /// Fields (text and files) of one form; more: 400.
    std::size_t max_form_fields = 1000;
    /// The text of one form: a urlencoded body, or a multipart form's text fields together;
    /// over it: 413. (Files may take the rest of the route's body limit.)
    std::size_t max_form_text_bytes = std::size_t{1024} * 1024;
    /// The files of one multipart form held in memory, together; the bytes beyond go to
    /// temporary files (in `$TMPDIR`, else /tmp) that are removed after the request.
    std::size_t form_spool_bytes = std::size_t{1024} * 1024;
    /// Time allowed to receive a body once its header is complete (slow uploads); then close.
    std::chrono::milliseconds body_timeout{30'000};
    /// A keep-alive connection waiting for its next request is closed after this.
    std::chrono::milliseconds idle_timeout{5'000};
    /// A WebSocket message (all its frames); over it: close 1009.
    std::size_t max_websocket_message_bytes = std::size_t{1024} * 1024;
    /// A WebSocket connection whose client has sent nothing for this long gets a ping
    /// (RFC 6455 5.5.2), which a client answers with a pong: a client that only listens stays
    /// connected as long as it answers. Zero: no pings, and websocket_idle_timeout applies.
    std::chrono::milliseconds websocket_ping_interval{20'000};
    /// A ping unanswered for this long (nothing at all received) closes the connection with
    /// 1011, through the close handshake (websocket_close_timeout bounds it). Judged only while
    /// something reads the connection (an endpoint's loop, a handler in receive()); without a
    /// reader a pong cannot be seen, and the pings go on.
    std::chrono::milliseconds websocket_ping_timeout{20'000};
    /// With pings off (websocket_ping_interval zero): a WebSocket connection that receives
    /// nothing for this long is closed with 1001. With pings on it does not apply.
    std::chrono::milliseconds websocket_idle_timeout{60'000};
    /// How long to wait for the peer's answer to a close frame before dropping the socket.
    std::chrono::milliseconds websocket_close_timeout{5'000};
    /// Bytes of messages a WebSocket connection holds from `queue_text`/`queue_bytes`/
    /// `queue_json` that its client has not taken yet. A queue holding this much takes no
    /// more: see `websocket_queue_full`. (Awaited sends wait instead of queueing.)
    std::size_t websocket_send_queue_bytes = std::size_t{1024} * 1024;
    /// What a full send queue does with the next queued message (default: close with 1008).
    QueueFull websocket_queue_full = QueueFull::close;
    /// Open connections (HTTP and WebSocket) the server holds at once, shared evenly among its
    /// threads. At the limit a thread stops accepting: new connections wait in the kernel's
    /// listen queue until one closes, and are refused by the kernel when that queue is full.
    std::size_t max_connections = 16'384;
    /// How long a shutdown waits for in-flight requests before closing everything.
    std::chrono::milliseconds shutdown_grace{10'000};
};

}  // namespace flamecpp
