#pragma once

// The state of a WebSocket connection, shared by its operations: the handshake
// (websocket/accept.cpp), reading frames and messages (read.cpp), the send queue (write.cpp),
// and the close handshake with the teardown (close.cpp), as Beast keeps its stream's state in
// one header and one operation per file. The session runs straight on the HTTP session's
// socket with flamecpp's own RFC 6455 codec (src/websocket/frame.hpp): it keeps the state
// Starlette's WebSocket has (connecting, connected, closed; the close code), queues writes so
// frames never interleave, answers pings, runs the close handshake, and records the close code
// that went on the wire.
//
// Reading: frames are parsed from a small per-connection buffer; a payload goes straight into
// the message's string (what arrived with the header is copied, the rest is read into place)
// and is unmasked there. Writing: one write of the frame header and the payload. An echo of a
// small message costs one read, one write and the message's string.

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <deque>
#include <exception>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <flamecpp/limits.hpp>
#include <flamecpp/request.hpp>
#include <flamecpp/status.hpp>
#include <flamecpp/websocket.hpp>

#include "server/worker.hpp"
#include "websocket/frame.hpp"

namespace flamecpp::detail {
namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

inline constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

/// The read buffer: frame headers, control frames, and whatever a read brings beyond the
/// current frame. Payloads longer than what is buffered are read into the message itself.
inline constexpr std::size_t read_buffer_size = 2048;
/// A payload still to come is read in pieces of at most this size, so the memory a message
/// takes follows the bytes that really arrived, not the length its header claims.
inline constexpr std::size_t payload_read_chunk = std::size_t{64} * 1024;

/// After the close handshake (or a failure) the server closes TCP first (RFC 6455 7.1.1):
/// it sends FIN, reads and drops what the peer still sends (so closing does not turn into a
/// reset that could destroy the close frame before the peer reads it), and closes at the
/// peer's EOF or after `teardown_drain_limit`, whichever comes first.
inline constexpr auto teardown_drain_limit = std::chrono::seconds(1);

/// A server frame ready for one write: its header, then the payload (copied behind the header
/// when small, else a second buffer).
struct OutgoingFrame {
    /// Payloads up to this size are copied behind the header and go out with send(2); larger
    /// ones are a gather write (sendmsg(2)) of the header and the caller's bytes.
    static constexpr std::size_t max_copied = 240;

    /// `framed`: `payload` is whole frames already (a batch of messages, each with its
    /// header), written as they are.
    OutgoingFrame(ws::Opcode opcode, std::string_view payload, bool framed = false)
        : size(framed ? 0
                      : ws::write_server_header(std::span<char, ws::max_server_header>(
                                                    bytes.data(), ws::max_server_header),
                                                opcode,
                                                payload.size())) {
        if (framed) {
            buffers = {asio::buffer(bytes.data(), 0), asio::buffer(payload)};
            return;
        }
        if (payload.size() <= max_copied) {
            std::memcpy(bytes.data() + size, payload.data(), payload.size());
            size += payload.size();
            copied = true;
        } else {
            buffers = {asio::buffer(bytes.data(), size), asio::buffer(payload)};
        }
    }
    OutgoingFrame(const OutgoingFrame&) = delete;  // the buffers point into `bytes`
    OutgoingFrame& operator=(const OutgoingFrame&) = delete;

    asio::const_buffer contiguous() const noexcept { return asio::buffer(bytes.data(), size); }

    std::size_t total() const noexcept { return copied ? size : size + buffers[1].size(); }

    /// The gather buffers without their first `sent` bytes.
    std::array<asio::const_buffer, 2> rest(std::size_t sent) const noexcept {
        const std::size_t in_header = std::min(sent, buffers[0].size());
        return {buffers[0] + in_header, buffers[1] + (sent - in_header)};
    }

    std::array<char, ws::max_server_header + max_copied> bytes;
    std::size_t size;
    bool copied = false;
    std::array<asio::const_buffer, 2> buffers;  // when not copied
};

/// Decodes a received message per the endpoint's `encoding` (Starlette's
/// `WebSocketEndpoint.decode`; src/websocket.cpp): for Encoding::json the parsed value is
/// attached. Null when the message fits, else why not (the connection then closes with 1003).
const char* decode(Data& data, Encoding encoding);

/// Logs an exception a WebSocket handler let escape (src/websocket.cpp).
void log_websocket_error(std::string_view route, std::exception_ptr error) noexcept;

class WebSocketSession final : public std::enable_shared_from_this<WebSocketSession>,
                               private ConnectionOwner {
public:
    WebSocketSession(Worker& worker, Transport transport, const Request& request, Connection& conn);

    /// Called on the connection's thread when its handler is done: waits for the close,
    /// teardown and send-queue tasks still under way, then releases the HTTP session's
    /// Connection and the socket.
    Task<void> finish();

    /// Throws for any use once the connection is finished (a handle kept after it).
    void require_live() const;

    /// Lets go of the HTTP session's Connection: the reaper's hooks no longer reach us.
    void detach() noexcept;

    const Request& request() const noexcept { return request_; }
    Request& request() noexcept { return request_; }
    std::span<const std::string> subprotocols() const noexcept { return subprotocols_; }
    /// Header fields the app's middleware put on the 101 (or on a refusal).
    void set_handshake_headers(std::vector<std::pair<std::string, std::string>> headers) {
        handshake_headers_ = std::move(headers);
    }
    WebSocket::State state() const noexcept { return state_; }
    std::optional<Code> close_code() const noexcept { return close_code_; }
    std::string_view close_reason() const noexcept { return close_reason_; }

    /// Logs an exception the handler let escape and reports it to the server's observer.
    void handler_failed(std::string_view route, std::exception_ptr error) const noexcept;

    /// Compares addresses only: `worker_` may be gone when a handle outlives the server.
    bool on_owner_thread() const noexcept { return Worker::current() == &worker_; }

    /// Completes the handshake (RFC 6455 4.2.2): the 101 with the chosen subprotocol and the
    /// app's headers. Sends made meanwhile queue behind it.
    Task<void> accept(std::string subprotocol,
                      std::vector<std::pair<std::string, std::string>> headers);

    /// Refuses the handshake with an HTTP answer (403 for close() before accept).
    Task<void> refuse(Status status, Code code);

    /// The server's close handshake, from any thread: the close frame goes after what is
    /// queued, then the peer's answer is awaited (bounded by the close timeout).
    Task<void> close(Code code, std::string reason);

    /// Sends one message and returns once the kernel has it. `keep` holds the session for the
    /// length of the send (the caller's WebSocket handle may go away meanwhile); it lives in
    /// this frame rather than in a wrapper coroutine.
    Task<void> send(std::shared_ptr<WebSocketSession> keep, std::string payload, bool binary);

    /// Queues one message without waiting (WebSocket::queue_text). See the public header for
    /// what the result means.
    bool queue(std::shared_ptr<WebSocketSession> self,
               std::string payload,
               bool binary,
               bool framed = false);

    /// Receives the next message, decoded per `encoding` (a message that does not fit it is
    /// refused with 1003). Once the connection is closed, `Result` = Data throws
    /// WebSocketDisconnect and `Result` = std::optional<Data> gives nullopt: the same loop
    /// serves WebSocket::receive*() and the endpoints' message loop, each in one frame.
    /// `keep`: as for send().
    template <class Result>
    Task<Result> receive_as(std::shared_ptr<WebSocketSession> keep, Encoding encoding);

private:
    /// What resumes a sender waiting for its frame to go out (or for the connection to end:
    /// then with WebSocketDisconnect), on the sender's own executor.
    using SendDone =
        asio::async_result<asio::use_awaitable_t<>, void(std::exception_ptr)>::handler_type;

    /// A frame in the send queue: its payload (owned), how much of it went out already, and
    /// the sender waiting for it, if any.
    struct QueuedFrame {
        QueuedFrame(std::string bytes, ws::Opcode op) : payload(std::move(bytes)), opcode(op) {}

        std::string payload;
        ws::Opcode opcode;
        std::size_t sent = 0;  ///< bytes of the frame (header included) already written
        bool counted = false;  ///< from queue(): counts toward the queue's byte limit
        bool framed = false;   ///< `payload` holds whole frames (queue(..., framed))
        std::optional<SendDone> done;
    };

    /// Hands a frame queued on another thread to the connection's thread.
    struct Submit {
        std::shared_ptr<WebSocketSession> self;
        QueuedFrame frame;
        void operator()() { self->submit(std::move(frame)); }
    };

    /// Runs a task on the connection's thread for a caller on another thread (see on_owner).
    struct OwnerJob {
        std::shared_ptr<WebSocketSession> self;
        Task<void> task;
        std::optional<SendDone> done;
        void operator()() {
            asio::co_spawn(self->worker_.io, std::move(task),
                           [done = std::move(*done)](std::exception_ptr error) mutable {
                               complete(std::move(done), std::move(error));
                           });
        }
    };

    struct WriteGuard {
        WebSocketSession* session;
        WriteGuard(const WriteGuard&) = delete;
        explicit WriteGuard(WebSocketSession* s) : session(s) {}
        ~WriteGuard() { session->release_writer(); }  // NOLINT(bugprone-exception-escape)
    };

    /// Marks the single reader; when it stops, a close() waiting for the peer's close frame
    /// looks again.
    struct ReadGuard {
        WebSocketSession* session;
        ReadGuard(const ReadGuard&) = delete;
        explicit ReadGuard(WebSocketSession* s) : session(s) { session->reading_ = true; }
        ~ReadGuard() {
            session->reading_ = false;
            wake_all(session->read_waiters_);
        }
    };

    /// Coroutines parked until woken (few at a time; a vector allocates only when used).
    using Waiters = std::vector<asio::steady_timer*>;

    /// Suspends until `waiters` is woken (a timer that never expires, cancelled to wake). The
    /// entry goes when the frame does, even if it is destroyed without resuming.
    Task<void> park(Waiters& waiters);

    static void wake_all(const Waiters& waiters) noexcept {
        for (auto* waiter : waiters) {
            waiter->cancel();
        }
    }

    /// Resumes a waiting sender on its own executor (never inline: the caller may be the
    /// queue's writer, or another thread's coroutine).
    static void complete(SendDone done, std::exception_ptr error);

    std::exception_ptr disconnect_error() const;

    /// Runs `task` (moved from) on the connection's thread and resumes the caller on its own
    /// when it ends, with its exception. Through the worker's mailbox: once the server is
    /// gone, the caller gets WebSocketDisconnect instead. Not a coroutine: the awaitable is the
    /// caller's, and `task` a named local of the caller (GCC 12 mishandles temporaries in a
    /// co_await expression).
    asio::awaitable<void> on_owner(Task<void>& task);

    /// Queues `frame` (moved from) and resumes the caller when it has gone out or the
    /// connection has ended. Not a coroutine: the awaitable is the caller's (see on_owner).
    asio::awaitable<void> wait_in_queue(QueuedFrame& frame);

    /// Every frame that is not written straight from its sender's frame comes here, on the
    /// connection's thread. With nothing being written, the frame is tried at once (one
    /// non-blocking send, no task); what the kernel does not take waits in the queue, which
    /// a writer task empties in order.
    void submit(QueuedFrame frame);

    /// A frame is done (error: it will never go out): its bytes leave the queue's count and
    /// its sender resumes.
    void end_frame(QueuedFrame& frame, std::exception_ptr error);

    /// Ends every queued frame with WebSocketDisconnect; with `keep_control` the close frame
    /// (and pongs) stay, for a connection whose socket still works.
    void fail_queue(bool keep_control);

    /// The writer owns the socket's write side (writing_ stays true) until the queue is empty.
    void start_writer();

    static Task<void> write_queue(std::shared_ptr<WebSocketSession> self);

    /// The sender that wrote from its own frame is done: the queue that formed meanwhile
    /// gets a writer.
    void release_writer() noexcept;  // NOLINT(bugprone-exception-escape): see write.cpp

    void writer_done() noexcept {
        writing_ = false;
        wake_all(idle_waiters_);
    }

    void task_done() noexcept {
        if (--internal_tasks_ == 0) {
            wake_all(idle_waiters_);
        }
    }

    /// Sends the frame with one non-blocking send(2) (payload copied behind the header) or
    /// sendmsg(2) (a gather of header and payload), without suspending. True: it all went out.
    /// False: `sent` bytes went (maybe none) and write_rest(frame, sent) sends the rest, or
    /// meets the error again and reports it. The caller holds the write side.
    bool write_now(const OutgoingFrame& frame, std::size_t& sent);

    /// The rest of a frame after write_now(), to be awaited at once (it points into `frame`).
    /// Not a coroutine, so it adds no frame.
    asio::awaitable<std::tuple<error_code, std::size_t>> write_rest(const OutgoingFrame& frame,
                                                                    std::size_t sent);

    /// Queues our close frame once; from then on no data frame goes out. `drop_data`: the
    /// data frames still queued are dropped (their senders get WebSocketDisconnect) so that
    /// the close goes next (a failure, a reply to the peer's close, a full send queue);
    /// otherwise they go out first (close() by the app, idle timeout, shutdown).
    void queue_close(Code code, std::string_view reason, bool drop_data);

    /// A queue_*() found the send queue full.
    void queue_overflowed();

    /// Reads (or waits for the reader to read) until the connection is closed.
    Task<void> wait_until_closed();

    /// Appends the frame's payload to `payload` and unmasks it: the buffered bytes first,
    /// then reads for the rest. False when the connection was lost.
    Task<bool> read_payload(std::string& payload, const ws::FrameHeader& frame);

    /// Keeps room for a whole frame header at the end of the read buffer.
    void make_room() noexcept;

    /// The peer's close frame: answered with its code (the close handshake's second half)
    /// unless it answers ours; then the connection is done.
    void on_peer_close();

    /// Fails the connection (RFC 6455 7.1.7): our close frame with `code`, unless one went
    /// out already, then the TCP teardown.
    void fail(Code code);

    /// The close handshake is over (or the connection failed): the connection is closed for
    /// the handler at once, and the socket is torn down in the background once the close
    /// frame is out.
    void end_connection();

    static Task<void> teardown(std::shared_ptr<WebSocketSession> self);

    /// The TCP connection broke (or was dropped by the reaper) without a finished close
    /// handshake: 1006 unless a close frame went out. Every queued frame fails.
    void lost() noexcept;

    void require_owner_thread(const char* what) const;

    void mark_closed(Code code);

    /// Starts the idle clock (unless a close handshake is under way).
    void restart_idle_clock() noexcept;

    /// Traffic: the idle clock restarts at the worker's next sweep (unless a close handshake
    /// is under way), so that a message costs no clock read.
    void touch() noexcept;

    /// Bytes came from the peer: it is alive (a ping, if one is out, is answered), and the
    /// idle clock restarts.
    void heard() noexcept {
        awaiting_pong_ = false;
        touch();
    }

    /// Silence before the deadline acts: the ping interval, or the idle timeout without pings.
    [[nodiscard]] Clock::duration quiet_period() const noexcept;

    /// Starts the server's close handshake in the background (idle timeout, shutdown).
    void start_close(Code code, const char* reason);

    /// Reads until the peer answers our close (unless the handler is reading anyway).
    void start_close_wait();

    static Task<void> close_wait(std::shared_ptr<WebSocketSession> self);

    /// Idle: the close handshake starts; a close the peer does not finish: the socket goes.
    void deadline_passed() override;

    void shutting_down() override;

    /// The server is torn down with this connection open (its loop stopped after the grace
    /// period): queued senders resume with WebSocketDisconnect (or are destroyed with a
    /// stopped loop), and the socket goes while its io_context still exists.
    void abandoned() override;

    Worker& worker_;
    /// Destroyed by finish() on the connection's thread while its io_context runs; handles
    /// that outlive the connection (or the server) must not touch it, or the worker, after.
    std::optional<Transport> transport_;
    std::atomic<bool> finished_{false};
    int internal_tasks_ = 0;  ///< close, teardown and queue-writer tasks under way
    std::string request_storage_;
    Request request_;
    Connection* conn_;
    std::vector<std::string> subprotocols_;
    std::vector<std::pair<std::string, std::string>> handshake_headers_;
    std::unique_ptr<char[]> read_buffer_;
    std::size_t read_begin_ = 0;  ///< unparsed bytes are [read_begin_, read_end_)
    std::size_t read_end_ = 0;
    std::string message_;          ///< the message being assembled
    bool message_binary_ = false;  ///< its first frame's type
    bool in_message_ = false;      ///< a fragmented message is under way
    std::string control_payload_;  ///< the last control frame's payload
    /// Atomic: a stored handle's state() may be read from another thread. The owner thread
    /// sets close_code_ before it stores `closed`, so a reader that sees `closed` sees the code.
    std::atomic<WebSocket::State> state_{WebSocket::State::connecting};
    std::optional<Code> close_code_;
    std::string close_reason_;
    bool close_sent_ = false;  ///< our close frame is queued or out
    /// A frame is being written (by a sender from its own frame, or by the queue's writer);
    /// while it is, new frames queue.
    bool writing_ = false;
    /// A frame went out since the last socket read: the next read waits for the queued work
    /// first (Worker::after_queued_work).
    bool wrote_since_read_ = false;
    bool reading_ = false;
    /// The server pinged and has heard nothing since (see deadline_passed).
    bool awaiting_pong_ = false;
    // What the echo path does not touch comes last.
    std::deque<QueuedFrame> queue_;  ///< frames waiting for the write side, in order
    /// Accepted, no close frame queued, not closed: queue() from other threads reads it.
    std::atomic<bool> sendable_{false};
    /// Bytes of queue() messages not yet written (any thread adds, the connection's removes).
    std::atomic<std::size_t> queued_bytes_{0};
    /// How other threads reach the connection's loop; refuses once the server is gone.
    std::shared_ptr<Mailbox> mailbox_;
    /// The app's send-queue limits, copied: queue() reads them from any thread.
    const std::size_t queue_limit_;
    const QueueFull queue_full_;
    Waiters read_waiters_;
    /// Waiting for the write side to be free, or for the internal tasks to end (each
    /// waiter checks its own condition again when woken).
    Waiters idle_waiters_;
};

extern template Task<Data> WebSocketSession::receive_as<Data>(std::shared_ptr<WebSocketSession>,
                                                              Encoding);
extern template Task<std::optional<Data>> WebSocketSession::receive_as<std::optional<Data>>(
    std::shared_ptr<WebSocketSession>, Encoding);

struct WebSocketAccess {
    static WebSocketSession& session(WebSocket& ws) noexcept { return *ws.session_; }
    static const std::shared_ptr<WebSocketSession>& handle(WebSocket& ws) noexcept {
        return ws.session_;
    }
};

}  // namespace flamecpp::detail
