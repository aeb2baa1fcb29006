// WebSockets straight on the HTTP session's socket, with our own RFC 6455 codec
// (websocket/frame.hpp). The session keeps the state Starlette's WebSocket has (connecting,
// connected, closed; the close code), queues writes so frames never interleave, answers
// pings, runs the close handshake, and records the close code that went on the wire.
//
// Reading: frames are parsed from a small per-connection buffer; a payload goes straight
// into the message's string (what arrived with the header is copied, the rest is read into
// place) and is unmasked there. Writing: one gather write of the frame header and the
// payload. An echo of a small message costs one read, one write and the message's string.

#include "server/websocket_session.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstring>
#include <deque>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <flamecpp/websocket.hpp>

#include "app/app_impl.hpp"
#include "app/components.hpp"
#include "http/ascii.hpp"
#include "http/request_builder.hpp"
#include "http/writer.hpp"
#include "json/reader.hpp"
#include "json/writer.hpp"
#include "log.hpp"
#include "websocket/frame.hpp"

namespace flamecpp {
namespace detail {
namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

void log_websocket_error(std::string_view route, std::exception_ptr error) noexcept;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

/// True when the comma-separated `list` holds `token` (case-insensitive).
bool has_token(std::string_view list, std::string_view token) {
    return for_each_list_item(list,
                              [token](std::string_view item) { return iequals(item, token); });
}

/// The read buffer: frame headers, control frames, and whatever a read brings beyond the
/// current frame. Payloads longer than what is buffered are read into the message itself.
constexpr std::size_t read_buffer_size = 2048;
/// A payload still to come is read in pieces of at most this size, so the memory a message
/// takes follows the bytes that really arrived, not the length its header claims.
constexpr std::size_t payload_read_chunk = 64 * 1024;

/// After the close handshake (or a failure) the server closes TCP first (RFC 6455 7.1.1):
/// it sends FIN, reads and drops what the peer still sends (so closing does not turn into a
/// reset that could destroy the close frame before the peer reads it), and closes at the
/// peer's EOF or after `teardown_drain_limit`, whichever comes first.
constexpr auto teardown_drain_limit = std::chrono::seconds(1);

/// A server frame ready for one write: its header, then the payload (copied behind the header
/// when small, else a second buffer).
struct OutgoingFrame {
    /// Payloads up to this size are copied behind the header and go out with send(2); larger
    /// ones are a gather write (sendmsg(2)) of the header and the caller's bytes.
    static constexpr std::size_t max_copied = 240;

    OutgoingFrame(ws::Opcode opcode, std::string_view payload)
        : size(ws::write_server_header(
              std::span<char, ws::max_server_header>(bytes.data(), ws::max_server_header),
              opcode,
              payload.size())) {
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

Task<void> drain_and_close(tcp::socket& socket) {
    error_code ec;
    socket.shutdown(tcp::socket::shutdown_send, ec);
    asio::steady_timer limit(socket.get_executor(), teardown_drain_limit);
    limit.async_wait([&socket](const error_code& wait_ec) {
        if (!wait_ec) {
            error_code ignored;
            socket.cancel(ignored);  // the drain's read ends with operation_aborted
        }
    });
    std::array<char, 4096> scratch;
    std::size_t drained = 0;
    while (drained < 4 * 1024 * 1024) {
        auto [read_ec, n] = co_await socket.async_read_some(asio::buffer(scratch), use_tuple);
        if (read_ec) {
            break;
        }
        drained += n;
    }
    limit.cancel();
    socket.close(ec);
}

}  // namespace

class WebSocketSession : public std::enable_shared_from_this<WebSocketSession> {
public:
    WebSocketSession(Worker& worker, tcp::socket socket, const Request& request, Connection& conn)
        : worker_(worker),
          conn_(&conn),
          read_buffer_(std::make_unique_for_overwrite<char[]>(read_buffer_size)),
          mailbox_(worker.mailbox),
          queue_limit_(worker.app.limits.websocket_send_queue_bytes),
          queue_full_(worker.app.limits.websocket_queue_full) {
        socket_.emplace(std::move(socket));
        // Handles may outlive the HTTP session that parsed the request: keep a copy.
        RequestBuilder(request_).copy_from(request, request_storage_);
        if (auto offered = request_.header("Sec-WebSocket-Protocol")) {
            for_each_list_item(*offered, [this](std::string_view item) {
                subprotocols_.emplace_back(item);
                return false;
            });
        }
        conn.socket = &*socket_;
        conn.owner = this;
        conn.on_expire = &on_expire;
        conn.on_shutdown = &on_shutdown;
        conn.on_abandon = &on_abandon;
        conn.phase = Connection::Phase::busy;
        conn.set_deadline(Clock::time_point::max());
    }

    /// Called on the connection's thread when its handler is done: waits for the close,
    /// teardown and send-queue tasks still under way, then releases the HTTP session's
    /// Connection and the socket.
    Task<void> finish() {
        // An app's task may still be writing from its own frame (its write ends with an
        // error once the socket is closed): the socket stays until it has.
        while (internal_tasks_ > 0 || writing_) {
            co_await park(idle_waiters_);
        }
        mark_closed(Code::abnormal);
        fail_queue(false);
        detach();
        finished_ = true;
        socket_.reset();
        read_buffer_.reset();
        message_ = std::string();
    }

    /// Throws for any use once the connection is finished (a handle kept after it).
    void require_live() const {
        if (finished_.load()) {
            throw WebSocketDisconnect(close_code_.value_or(Code::abnormal), close_reason_);
        }
    }

    void detach() noexcept {
        if (conn_ != nullptr) {
            conn_->on_expire = nullptr;
            conn_->on_shutdown = nullptr;
            conn_->on_abandon = nullptr;
            conn_->owner = nullptr;
            conn_ = nullptr;
        }
    }

    const Request& request() const noexcept { return request_; }
    Request& request() noexcept { return request_; }
    std::span<const std::string> subprotocols() const noexcept { return subprotocols_; }
    WebSocket::State state() const noexcept { return state_; }
    std::optional<Code> close_code() const noexcept { return close_code_; }
    std::string_view close_reason() const noexcept { return close_reason_; }

    /// Logs an exception the handler let escape and reports it to the server's observer.
    void handler_failed(std::string_view route, std::exception_ptr error) const noexcept {
        log_websocket_error(route, error);
        worker_.handler_failed(std::move(error));
    }

    /// Compares addresses only: `worker_` may be gone when a handle outlives the server.
    bool on_owner_thread() const noexcept { return Worker::current() == &worker_; }

    Task<void> accept(std::string subprotocol,
                      std::vector<std::pair<std::string, std::string>> headers) {
        require_live();
        require_owner_thread("accept");
        if (state_ != WebSocket::State::connecting) {
            throw std::logic_error(
                "flamecpp: WebSocket::accept() called on a connection that is "
                "already accepted or closed");
        }
        if (!subprotocol.empty() && std::find(subprotocols_.begin(), subprotocols_.end(),
                                              subprotocol) == subprotocols_.end()) {
            throw std::logic_error("flamecpp: WebSocket::accept(\"" + subprotocol +
                                   "\"): the client did not offer that subprotocol");
        }
        for (const auto& [name, value] : headers) {
            if (!is_token(name) || value.find_first_of("\r\n") != std::string::npos) {
                throw std::logic_error("flamecpp: WebSocket::accept(): header '" + name +
                                       "' would break the handshake response");
            }
        }
        // RFC 6455 4.2.2. The key was checked before the handler ran.
        std::string out =
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Accept: ";
        out += ws::accept_key(request_.header("Sec-WebSocket-Key").value_or(""));
        out += "\r\n";
        if (!worker_.app.server_header.empty()) {
            out += "Server: ";
            out += worker_.app.server_header;
            out += "\r\n";
        }
        out += "Date: ";  // the contract: every response has a Date
        out += worker_.date.now();
        out += "\r\n";
        if (!subprotocol.empty()) {
            out += "Sec-WebSocket-Protocol: ";
            out += subprotocol;
            out += "\r\n";
        }
        for (const auto& [name, value] : headers) {
            out += name;
            out += ": ";
            out += value;
            out += "\r\n";
        }
        out += "\r\n";
        state_ = WebSocket::State::connected;  // a concurrent accept() now fails
        sendable_ = true;
        writing_ = true;  // sends queue until the 101 is out
        WriteGuard guard(this);
        auto [ec, n] = co_await asio::async_write(*socket_, asio::buffer(out), use_tuple);
        (void)n;
        if (ec) {
            lost();
            throw WebSocketDisconnect(Code::abnormal, "handshake failed: " + ec.message());
        }
        restart_idle_clock();
    }

    /// Refuses the handshake with an HTTP answer (403 for close() before accept).
    Task<void> refuse(Status status, Code code) {
        if (state_ != WebSocket::State::connecting) {
            co_return;
        }
        mark_closed(code);
        Response response = Response::text(std::string(reason_phrase(status)), status);
        std::string out;
        HeadOptions options{worker_.app.server_header, worker_.date.now(), true};
        write_head(out, response, options);
        out += response.body();
        auto [ec, n] = co_await asio::async_write(*socket_, asio::buffer(out), use_tuple);
        (void)ec;
        (void)n;
        error_code ignored;
        socket_->shutdown(tcp::socket::shutdown_both, ignored);
        socket_->close(ignored);
    }

    Task<void> close(Code code, std::string reason) {
        if (finished_.load()) {
            co_return;  // already closed and released
        }
        if (!on_owner_thread()) {
            Task<void> job = close(code, std::move(reason));
            co_await on_owner(job);
            co_return;
        }
        if (state_ == WebSocket::State::connecting) {
            co_await refuse(Status::forbidden, code);  // RFC 6455 4.2.2: refuse the handshake
            co_return;
        }
        if (state_ == WebSocket::State::closed || close_sent_) {
            co_return;
        }
        if (reason.size() > ws::max_control_payload - 2) {
            reason.resize(ws::max_control_payload - 2);
        }
        close_reason_ = std::move(reason);
        queue_close(code, close_reason_, /*drop_data=*/false);  // after what is queued already
        // The handshake ends with the peer's close frame, read here unless a receive() is
        // reading already; the reaper drops the connection at the close timeout.
        co_await wait_until_closed();
        SPDLOG_LOGGER_DEBUG(&logger(), "websocket closed with {}", static_cast<int>(code));
    }

    /// Sends one message and returns once the kernel has it. `keep` holds the session for the
    /// length of the send (the caller's WebSocket handle may go away meanwhile); it lives in
    /// this frame rather than in a wrapper coroutine.
    Task<void> send(std::shared_ptr<WebSocketSession> keep, std::string payload, bool binary) {
        require_live();
        if (!on_owner_thread()) {
            // Another thread's task: the send runs on the connection's own thread, and the
            // caller resumes on its own.
            Task<void> job = send(std::move(keep), std::move(payload), binary);
            co_await on_owner(job);
            co_return;
        }
        if (state_ == WebSocket::State::connecting) {
            throw std::logic_error("flamecpp: WebSocket send before accept()");
        }
        if (state_ == WebSocket::State::closed || close_sent_) {
            throw WebSocketDisconnect(close_code_.value_or(Code::abnormal), close_reason_);
        }
        const ws::Opcode opcode = binary ? ws::Opcode::binary : ws::Opcode::text;
        if (writing_) {
            // Behind the frame being written: in the queue, which completes it when it has
            // gone out or when the connection ends.
            QueuedFrame frame{std::move(payload), opcode};
            co_await wait_in_queue(frame);
            co_return;
        }
        // Nothing is being written: write it from this frame, with no queue entry.
        writing_ = true;
        WriteGuard guard(this);
        const OutgoingFrame frame(opcode, payload);
        std::size_t sent = 0;
        if (!write_now(frame, sent)) {
            // Ends with an error when the connection ends: every path that ends it closes or
            // cancels the socket.
            auto [ec, n] = co_await write_rest(frame, sent);
            (void)n;
            if (ec) {
                lost();
                throw WebSocketDisconnect(close_code_.value_or(Code::abnormal), close_reason_);
            }
        }
    }

    /// Queues one message without waiting (WebSocket::queue_text). See the public header for
    /// what the result means.
    bool queue(std::shared_ptr<WebSocketSession> self, std::string payload, bool binary) {
        QueuedFrame frame{std::move(payload), binary ? ws::Opcode::binary : ws::Opcode::text};
        frame.counted = true;
        const std::size_t size = frame.payload.size();
        if (!on_owner_thread()) {
            if (!sendable_.load(std::memory_order_acquire)) {
                return false;
            }
            if (queued_bytes_.fetch_add(size, std::memory_order_relaxed) >= queue_limit_) {
                queued_bytes_.fetch_sub(size, std::memory_order_relaxed);
                if (queue_full_ == QueueFull::close) {
                    auto overflow = [self] { self->queue_overflowed(); };
                    mailbox_->post(overflow);
                }
                return false;
            }
            Submit submit{std::move(self), std::move(frame)};
            if (!mailbox_->post(submit)) {
                queued_bytes_.fetch_sub(size, std::memory_order_relaxed);
                return false;
            }
            return true;
        }
        if (state_ == WebSocket::State::connecting) {
            throw std::logic_error("flamecpp: WebSocket queue before accept()");
        }
        if (state_ != WebSocket::State::connected || close_sent_) {
            return false;
        }
        if (queued_bytes_.load(std::memory_order_relaxed) >= queue_limit_) {
            queue_overflowed();
            return false;
        }
        queued_bytes_.fetch_add(size, std::memory_order_relaxed);
        submit(std::move(frame));
        return true;
    }

    /// Receives the next message, decoded per `encoding` (a message that does not fit it is
    /// refused with 1003). Once the connection is closed, `Result` = Data throws
    /// WebSocketDisconnect and `Result` = std::optional<Data> gives nullopt: the same loop
    /// serves WebSocket::receive*() and the endpoints' message loop, each in one frame.
    /// `keep`: as for send().
    template <class Result>
    Task<Result> receive_as(std::shared_ptr<WebSocketSession> keep, Encoding encoding) {
        (void)keep;
        constexpr bool throws = std::is_same_v<Result, Data>;
        require_live();
        require_owner_thread("receive");
        if (state_ == WebSocket::State::connecting) {
            throw std::logic_error("flamecpp: WebSocket receive before accept()");
        }
        if (reading_) {
            if (!close_sent_) {
                throw std::logic_error(
                    "flamecpp: two receive() calls at once on one WebSocket; await one first");
            }
            while (state_ != WebSocket::State::closed) {
                co_await park(read_waiters_);  // the other reader takes the peer's close
            }
        }
        bool got = false;
        {
            ReadGuard reading(this);
            touch();
            // Frames until a whole data message is in `message_` (got), or the connection
            // ends (the state is closed and the close code set). Answers pings, runs the
            // peer's side of the close handshake, and fails the connection on a protocol
            // error. Once our close frame is out, data messages are read and dropped.
            const std::size_t limit = worker_.app.limits.max_websocket_message_bytes;
            for (;;) {
                if (state_ == WebSocket::State::closed) {
                    break;
                }
                ws::FrameHeader frame;
                const auto parsed =
                    ws::parse_client_header(std::span<const char>(read_buffer_.get() + read_begin_,
                                                                  read_end_ - read_begin_),
                                            frame);
                if (parsed == ws::HeaderResult::protocol_error) {
                    fail(Code::protocol_error);
                    break;
                }
                if (parsed == ws::HeaderResult::incomplete) {
                    if (wrote_since_read_) {
                        wrote_since_read_ = false;
                        co_await worker_.after_queued_work();  // see there
                    }
                    make_room();
                    auto [ec, n] = co_await socket_->async_read_some(
                        asio::buffer(read_buffer_.get() + read_end_, read_buffer_size - read_end_),
                        use_tuple);
                    if (ec) {
                        lost();
                        break;
                    }
                    read_end_ += n;
                    touch();
                    continue;
                }
                read_begin_ += frame.size;
                const bool control = ws::is_control(frame.opcode);
                if (!control) {
                    // RFC 6455 5.4: a message is a first frame and continuations, not interleaved
                    // with another message's frames.
                    const bool continuation = frame.opcode == ws::Opcode::continuation;
                    if (continuation != in_message_) {
                        fail(Code::protocol_error);
                        break;
                    }
                    if (!continuation) {
                        in_message_ = true;
                        message_binary_ = frame.opcode == ws::Opcode::binary;
                        message_.clear();
                    }
                    if (frame.length > limit - std::min(limit, message_.size())) {
                        fail(Code::message_too_big);
                        break;
                    }
                }
                std::string& payload = control ? control_payload_ : message_;
                if (control) {
                    control_payload_.clear();
                }
                const std::size_t length = static_cast<std::size_t>(frame.length);
                if (read_end_ - read_begin_ >= length) {
                    // The whole payload is buffered (small messages): no reads, no coroutine.
                    const std::size_t start = payload.size();
                    payload.append(read_buffer_.get() + read_begin_, length);
                    read_begin_ += length;
                    ws::apply_mask(payload.data() + start, length, frame.mask);
                } else {
                    const bool complete = co_await read_payload(payload, frame);
                    if (!complete) {
                        break;
                    }
                }
                if (!control) {
                    if (!frame.fin) {
                        continue;
                    }
                    in_message_ = false;
                    if (!message_binary_ && !ws::is_utf8(message_)) {
                        fail(Code::invalid_payload);
                        break;
                    }
                    if (close_sent_) {
                        message_.clear();  // the peer had not seen our close yet
                        continue;
                    }
                    got = true;
                    break;
                }
                if (frame.opcode == ws::Opcode::ping && !close_sent_) {
                    submit(QueuedFrame{control_payload_, ws::Opcode::pong});
                } else if (frame.opcode == ws::Opcode::close) {
                    on_peer_close();
                    break;
                }
                // A pong, or a ping after our close: nothing to do.
            }
        }
        if (!got) {
            if constexpr (throws) {
                throw WebSocketDisconnect(close_code_.value_or(Code::abnormal), close_reason_);
            } else {
                co_return std::nullopt;
            }
        }
        Data data(std::move(message_), message_binary_);
        message_ = std::string();
        const char* refusal = nullptr;
        switch (encoding) {
            case Encoding::none:
                break;
            case Encoding::text:
                refusal = data.is_binary() ? "expected a text message" : nullptr;
                break;
            case Encoding::bytes:
                refusal = data.is_text() ? "expected a binary message" : nullptr;
                break;
            case Encoding::json:
                try {
                    data.set_json(
                        std::make_shared<const boost::json::value>(parse_json(data.str())));
                } catch (const JsonError&) {
                    refusal = "expected a JSON message";
                }
                break;
        }
        if (refusal != nullptr) {
            co_await close(Code::unsupported_data, refusal);
            if constexpr (throws) {
                throw WebSocketDisconnect(Code::unsupported_data, refusal);
            } else {
                co_return std::nullopt;
            }
        }
        co_return data;
    }

private:
    /// What resumes a sender waiting for its frame to go out (or for the connection to end:
    /// then with WebSocketDisconnect), on the sender's own executor.
    using SendDone =
        asio::async_result<asio::use_awaitable_t<>, void(std::exception_ptr)>::handler_type;

    /// A frame in the send queue: its payload (owned), how much of it went out already, and
    /// the sender waiting for it, if any.
    struct QueuedFrame {
        std::string payload;
        ws::Opcode opcode;
        std::size_t sent = 0;  ///< bytes of the frame (header included) already written
        bool counted = false;  ///< from queue(): counts toward the queue's byte limit
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
        ~WriteGuard() { session->release_writer(); }
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
    Task<void> park(Waiters& waiters) {
        asio::steady_timer waiter(worker_.io, asio::steady_timer::time_point::max());
        waiters.push_back(&waiter);
        struct Unlist {
            Waiters& waiters;
            asio::steady_timer* waiter;
            ~Unlist() { std::erase(waiters, waiter); }
        } unlist{waiters, &waiter};
        auto [ec] = co_await waiter.async_wait(use_tuple);
        (void)ec;
    }

    static void wake_all(const Waiters& waiters) noexcept {
        for (auto* waiter : waiters) {
            waiter->cancel();
        }
    }

    /// Resumes a waiting sender on its own executor (never inline: the caller may be the
    /// queue's writer, or another thread's coroutine).
    static void complete(SendDone done, std::exception_ptr error) {
        auto executor = asio::get_associated_executor(done);
        // A WebSocketDisconnect travels as its code and reason and is made again on the
        // sender's thread: exception objects are shared by reference count, and each sender
        // gets one of its own.
        std::optional<Code> code;
        std::string reason;
        if (error) {
            try {
                std::rethrow_exception(error);
            } catch (const WebSocketDisconnect& e) {
                code = e.code();
                reason = e.reason();
                error = nullptr;
            } catch (...) {
            }
        }
        asio::post(executor, [done = std::move(done), error = std::move(error), code,
                              reason = std::move(reason)]() mutable {
            if (code) {
                error = std::make_exception_ptr(WebSocketDisconnect(*code, std::move(reason)));
            }
            std::move(done)(std::move(error));
        });
    }

    std::exception_ptr disconnect_error() const {
        return std::make_exception_ptr(
            WebSocketDisconnect(close_code_.value_or(Code::abnormal), close_reason_));
    }

    /// Runs `task` (moved from) on the connection's thread and resumes the caller on its own
    /// when it ends, with its exception. Through the worker's mailbox: once the server is
    /// gone, the caller gets WebSocketDisconnect instead. Not a coroutine: the awaitable is the
    /// caller's, and `task` a named local of the caller (GCC 12 mishandles temporaries in a
    /// co_await expression).
    asio::awaitable<void> on_owner(Task<void>& task) {
        return asio::async_initiate<const asio::use_awaitable_t<>&, void(std::exception_ptr)>(
            [](SendDone done, std::shared_ptr<WebSocketSession> self, Task<void> job_task) {
                OwnerJob job{self, std::move(job_task), std::move(done)};
                if (!self->mailbox_->post(job)) {
                    // The server has stopped: its threads are joined, so its state is ours.
                    complete(std::move(*job.done), self->disconnect_error());
                }
            },
            asio::use_awaitable, shared_from_this(), std::move(task));
    }

    /// Queues `frame` (moved from) and resumes the caller when it has gone out or the
    /// connection has ended. Not a coroutine: the awaitable is the caller's (see on_owner).
    asio::awaitable<void> wait_in_queue(QueuedFrame& frame) {
        return asio::async_initiate<const asio::use_awaitable_t<>&, void(std::exception_ptr)>(
            [this](SendDone done, QueuedFrame queued) {
                queued.done.emplace(std::move(done));
                submit(std::move(queued));
            },
            asio::use_awaitable, std::move(frame));
    }

    /// Every frame that is not written straight from its sender's frame comes here, on the
    /// connection's thread. With nothing being written, the frame is tried at once (one
    /// non-blocking send, no task); what the kernel does not take waits in the queue, which
    /// a writer task empties in order.
    void submit(QueuedFrame frame) {
        const bool data = !ws::is_control(frame.opcode);
        if (state_ == WebSocket::State::closed || !socket_ || (data && close_sent_)) {
            // Closed (or closing, for data): a frame handed over from another thread after
            // that, or a pong for a connection that has just broken.
            end_frame(frame, disconnect_error());
            return;
        }
        if (writing_) {
            queue_.push_back(std::move(frame));
            return;
        }
        writing_ = true;
        const OutgoingFrame out(frame.opcode, frame.payload);
        if (write_now(out, frame.sent)) {
            writing_ = false;
            end_frame(frame, nullptr);
            return;
        }
        queue_.push_front(std::move(frame));  // the writer sends the rest first
        start_writer();
    }

    /// A frame is done (error: it will never go out): its bytes leave the queue's count and
    /// its sender resumes.
    void end_frame(QueuedFrame& frame, std::exception_ptr error) {
        if (frame.counted) {
            queued_bytes_.fetch_sub(frame.payload.size(), std::memory_order_relaxed);
        }
        if (frame.done) {
            complete(std::move(*frame.done), std::move(error));
            frame.done.reset();
        }
    }

    /// Ends every queued frame with WebSocketDisconnect; with `keep_control` the close frame
    /// (and pongs) stay, for a connection whose socket still works.
    void fail_queue(bool keep_control) {
        if (queue_.empty()) {
            return;
        }
        std::deque<QueuedFrame> kept;
        for (QueuedFrame& frame : queue_) {
            if (keep_control && ws::is_control(frame.opcode)) {
                kept.push_back(std::move(frame));
            } else {
                end_frame(frame, disconnect_error());
            }
        }
        queue_.swap(kept);
    }

    /// The writer owns the socket's write side (writing_ stays true) until the queue is empty.
    void start_writer() {
        ++internal_tasks_;
        asio::co_spawn(worker_.io, write_queue(shared_from_this()), asio::detached);
    }

    static Task<void> write_queue(std::shared_ptr<WebSocketSession> self) {
        auto& queue = self->queue_;
        while (!queue.empty()) {
            QueuedFrame frame = std::move(queue.front());
            queue.pop_front();
            const OutgoingFrame out(frame.opcode, frame.payload);
            error_code ec;
            if (frame.sent != 0 || !self->write_now(out, frame.sent)) {
                auto [rest_ec, n] = co_await self->write_rest(out, frame.sent);
                (void)n;
                ec = rest_ec;
            }
            if (ec) {
                self->lost();  // fails the rest of the queue
                self->end_frame(frame, self->disconnect_error());
                break;
            }
            self->end_frame(frame, nullptr);
        }
        self->writer_done();
        self->task_done();
    }

    /// The sender that wrote from its own frame is done: the queue that formed meanwhile
    /// gets a writer.
    void release_writer() noexcept {
        if (!queue_.empty()) {
            if (socket_ && socket_->is_open()) {
                start_writer();
                return;
            }
            fail_queue(false);
        }
        writer_done();
    }

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
    bool write_now(const OutgoingFrame& frame, std::size_t& sent) {
        error_code ec;
        sent = frame.copied ? socket_->write_some(frame.contiguous(), ec)
                            : socket_->write_some(frame.buffers, ec);
        wrote_since_read_ = true;
        return sent == frame.total();
    }

    /// The rest of a frame after write_now(), to be awaited at once (it points into `frame`).
    /// Not a coroutine, so it adds no frame.
    asio::awaitable<std::tuple<error_code, std::size_t>> write_rest(const OutgoingFrame& frame,
                                                                    std::size_t sent) {
        if (frame.copied) {
            return asio::async_write(*socket_, frame.contiguous() + sent, use_tuple);
        }
        return asio::async_write(*socket_, frame.rest(sent), use_tuple);
    }

    /// Queues our close frame once; from then on no data frame goes out. `drop_data`: the
    /// data frames still queued are dropped (their senders get WebSocketDisconnect) so that
    /// the close goes next (a failure, a reply to the peer's close, a full send queue);
    /// otherwise they go out first (close() by the app, idle timeout, shutdown).
    void queue_close(Code code, std::string_view reason, bool drop_data) {
        if (state_ == WebSocket::State::closed || close_sent_) {
            return;
        }
        close_sent_ = true;
        sendable_ = false;
        if (!close_code_) {
            close_code_ = code;
        }
        if (conn_ != nullptr) {
            conn_->set_deadline(Clock::now() + worker_.app.limits.websocket_close_timeout);
        }
        if (drop_data) {
            fail_queue(true);
        }
        submit(QueuedFrame{ws::make_close_payload(static_cast<std::uint16_t>(code), reason),
                           ws::Opcode::close});
    }

    /// A queue_*() found the send queue full.
    void queue_overflowed() {
        if (queue_full_ != QueueFull::close || state_ != WebSocket::State::connected ||
            close_sent_) {
            return;
        }
        SPDLOG_LOGGER_DEBUG(&logger(), "websocket send queue full: closing with 1008");
        close_reason_ = "send queue full";
        queue_close(Code::policy_violation, close_reason_, /*drop_data=*/true);
        start_close_wait();
    }

    /// Reads (or waits for the reader to read) until the connection is closed.
    Task<void> wait_until_closed() {
        while (state_ != WebSocket::State::closed) {
            if (reading_) {
                co_await park(read_waiters_);
            } else {
                // After our close, messages are dropped: this returns once the peer's close
                // frame (or the end of TCP) has closed the connection.
                auto none =
                    co_await receive_as<std::optional<Data>>(shared_from_this(), Encoding::none);
                (void)none;
            }
        }
    }

    /// Appends the frame's payload to `payload` and unmasks it: the buffered bytes first,
    /// then reads for the rest. False when the connection was lost.
    Task<bool> read_payload(std::string& payload, const ws::FrameHeader& frame) {
        const std::size_t start = payload.size();
        const std::size_t length = static_cast<std::size_t>(frame.length);
        const std::size_t buffered = std::min(length, read_end_ - read_begin_);
        payload.append(read_buffer_.get() + read_begin_, buffered);
        read_begin_ += buffered;
        while (payload.size() - start < length) {
            const std::size_t have = payload.size();
            const std::size_t piece = std::min(length - (have - start), payload_read_chunk);
            payload.resize(have + piece);
            auto [ec, n] = co_await asio::async_read(
                *socket_, asio::buffer(payload.data() + have, piece), use_tuple);
            (void)n;
            if (ec) {
                lost();
                co_return false;
            }
            touch();
        }
        ws::apply_mask(payload.data() + start, length, frame.mask);
        co_return true;
    }

    /// Keeps room for a whole frame header at the end of the read buffer.
    void make_room() noexcept {
        if (read_begin_ == read_end_) {
            read_begin_ = read_end_ = 0;
        } else if (read_buffer_size - read_end_ < ws::max_client_header) {
            std::memmove(read_buffer_.get(), read_buffer_.get() + read_begin_,
                         read_end_ - read_begin_);
            read_end_ -= read_begin_;
            read_begin_ = 0;
        }
    }

    /// The peer's close frame: answered with its code (the close handshake's second half)
    /// unless it answers ours; then the connection is done.
    void on_peer_close() {
        std::uint16_t code = 0;
        std::string_view reason;
        const auto result = ws::parse_close_payload(control_payload_, code, reason);
        if (result == ws::CloseResult::protocol_error) {
            fail(Code::protocol_error);
            return;
        }
        if (result == ws::CloseResult::invalid_utf8) {
            fail(Code::invalid_payload);
            return;
        }
        if (!close_sent_) {
            close_code_ = static_cast<Code>(code);
            close_reason_ = std::string(reason);
            queue_close(static_cast<Code>(code), {}, /*drop_data=*/true);
        }
        end_connection();
    }

    /// Fails the connection (RFC 6455 7.1.7): our close frame with `code`, unless one went
    /// out already, then the TCP teardown.
    void fail(Code code) {
        SPDLOG_LOGGER_DEBUG(&logger(), "websocket failed with {}", static_cast<int>(code));
        if (!close_sent_) {
            close_code_ = code;
            queue_close(code, {}, /*drop_data=*/true);
        }
        end_connection();
    }

    /// The close handshake is over (or the connection failed): the connection is closed for
    /// the handler at once, and the socket is torn down in the background once the close
    /// frame is out.
    void end_connection() {
        if (state_ == WebSocket::State::closed) {
            return;  // a write failed meanwhile and closed the socket
        }
        state_ = WebSocket::State::closed;
        sendable_ = false;
        in_message_ = false;
        fail_queue(true);
        if (conn_ != nullptr) {
            conn_->set_deadline(Clock::now() + worker_.app.limits.websocket_close_timeout);
        }
        ++internal_tasks_;
        asio::co_spawn(worker_.io, teardown(shared_from_this()), asio::detached);
    }

    static Task<void> teardown(std::shared_ptr<WebSocketSession> self) {
        try {
            // The close frame first; a peer that does not take it is cut at the close
            // timeout, which ends the write.
            while (self->writing_) {
                co_await self->park(self->idle_waiters_);
            }
            co_await drain_and_close(*self->socket_);
        } catch (const std::exception& e) {
            SPDLOG_LOGGER_DEBUG(&logger(), "websocket teardown failed: {}", e.what());
        }
        self->task_done();
    }

    /// The TCP connection broke (or was dropped by the reaper) without a finished close
    /// handshake: 1006 unless a close frame went out. Every queued frame fails.
    void lost() noexcept {
        mark_closed(Code::abnormal);
        in_message_ = false;
        if (socket_) {
            error_code ignored;
            socket_->close(ignored);
        }
        fail_queue(false);
    }

    void require_owner_thread(const char* what) const {
        if (!on_owner_thread()) {
            throw std::logic_error(std::string("flamecpp: WebSocket ") + what +
                                   " must run on the connection's own thread");
        }
    }

    void mark_closed(Code code) {
        state_ = WebSocket::State::closed;
        sendable_ = false;
        if (!close_code_) {
            close_code_ = code;
        }
    }

    /// Starts the idle clock (unless a close handshake is under way).
    void restart_idle_clock() noexcept {
        if (conn_ != nullptr && !close_sent_) {
            conn_->set_deadline(Clock::now() + worker_.app.limits.websocket_idle_timeout);
        }
    }

    /// Traffic: the idle clock restarts at the worker's next sweep (unless a close handshake
    /// is under way), so that a message costs no clock read.
    void touch() noexcept {
        if (conn_ != nullptr && !close_sent_) {
            conn_->restart_at_next_sweep(worker_.app.limits.websocket_idle_timeout);
        }
    }

    /// Starts the server's close handshake in the background (idle timeout, shutdown).
    void start_close(Code code, const char* reason) {
        if (state_ != WebSocket::State::connected || close_sent_) {
            return;
        }
        close_reason_ = reason;
        queue_close(code, close_reason_, /*drop_data=*/false);
        start_close_wait();
    }

    /// Reads until the peer answers our close (unless the handler is reading anyway).
    void start_close_wait() {
        ++internal_tasks_;
        asio::co_spawn(worker_.io, close_wait(shared_from_this()), asio::detached);
    }

    static Task<void> close_wait(std::shared_ptr<WebSocketSession> self) {
        try {
            co_await self->wait_until_closed();
        } catch (const std::exception& e) {
            SPDLOG_LOGGER_DEBUG(&logger(), "websocket close failed: {}", e.what());
        }
        self->task_done();
    }

    static void on_expire(Connection& c) {
        auto* self = static_cast<WebSocketSession*>(c.owner);
        if (self->state_ == WebSocket::State::connected && !self->close_sent_) {
            // Idle: start the close handshake, bounded by the close timeout.
            self->start_close(Code::going_away, "idle timeout");
            return;
        }
        // The peer did not finish the close handshake (or take the close frame, or the
        // teardown) in time: drop it. Every pending read and write ends with an error.
        self->lost();
    }

    static void on_shutdown(Connection& c) {
        auto* self = static_cast<WebSocketSession*>(c.owner);
        self->start_close(Code::going_away, "server shutdown");
    }

    /// The server is torn down with this connection open (its loop stopped after the grace
    /// period): queued senders resume with WebSocketDisconnect (or are destroyed with a
    /// stopped loop), and the socket goes while its io_context still exists.
    static void on_abandon(Connection& c) {
        auto* self = static_cast<WebSocketSession*>(c.owner);
        self->mark_closed(Code::abnormal);
        self->fail_queue(false);
        self->detach();
        self->finished_ = true;
        self->socket_.reset();
    }

    Worker& worker_;
    /// Destroyed by finish() on the connection's thread while its io_context runs; handles
    /// that outlive the connection (or the server) must not touch it, or the worker, after.
    std::optional<tcp::socket> socket_;
    std::atomic<bool> finished_{false};
    int internal_tasks_ = 0;  ///< close, teardown and queue-writer tasks under way
    std::string request_storage_;
    Request request_;
    Connection* conn_;
    std::vector<std::string> subprotocols_;
    std::unique_ptr<char[]> read_buffer_;
    std::size_t read_begin_ = 0;  ///< unparsed bytes are [read_begin_, read_end_)
    std::size_t read_end_ = 0;
    std::string message_;          ///< the message being assembled
    bool message_binary_ = false;  ///< its first frame's type
    bool in_message_ = false;      ///< a fragmented message is under way
    std::string control_payload_;  ///< the last control frame's payload
    WebSocket::State state_ = WebSocket::State::connecting;
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

struct WebSocketAccess {
    static WebSocketSession& session(WebSocket& ws) noexcept { return *ws.session_; }
    static const std::shared_ptr<WebSocketSession>& handle(WebSocket& ws) noexcept {
        return ws.session_;
    }
};

bool is_websocket_upgrade(const Request& request) noexcept {
    auto upgrade = request.header("Upgrade");
    auto connection = request.header("Connection");
    return request.method() == Method::get && upgrade && connection &&
           has_token(*upgrade, "websocket") && has_token(*connection, "upgrade");
}

namespace {

/// RFC 6455 4.2.1: HTTP/1.1, version 13 and a 16-byte base64 key; checked before any user code
/// runs.
std::optional<Response> check_handshake(const Request& request) {
    if (request.version() < 11) {
        return Response::text("Bad Request: a WebSocket handshake needs HTTP/1.1",
                              Status::bad_request);
    }
    auto version = request.header("Sec-WebSocket-Version");
    if (!version || *version != "13") {
        return Response::text("Upgrade Required: WebSocket version 13", Status::upgrade_required)
            .with_header("Sec-WebSocket-Version", "13");
    }
    auto key = request.header("Sec-WebSocket-Key");
    if (!key || !ws::is_valid_key(*key)) {
        return Response::text("Bad Request: missing or malformed Sec-WebSocket-Key",
                              Status::bad_request);
    }
    return std::nullopt;
}

}  // namespace

asio::awaitable<void> run_websocket_session(
    Worker& worker, tcp::socket socket, Request& request, const Route& route, Connection& conn) {
    if (auto refusal = check_handshake(request)) {
        std::string out;
        HeadOptions options{worker.app.server_header, worker.date.now(), true};
        write_head(out, *refusal, options);
        out += refusal->body();
        auto [ec, n] = co_await asio::async_write(socket, asio::buffer(out), use_tuple);
        (void)ec;
        (void)n;
        error_code ignored;
        socket.close(ignored);
        co_return;
    }
    auto session = std::make_shared<WebSocketSession>(worker, std::move(socket), request, conn);
    WebSocket ws(session);
    ComponentScope components(worker.app.components);
    CallContext ctx(session->request(), &ws);
    ctx.app = worker.app.self;
    ctx.components = &components;
    bool ready = true;
    try {
        // Per-request components are made once per connection, before on_connect.
        if (route.needs_components && !prepare_components_now(ctx, route.components)) {
            co_await prepare_components(ctx, route.components);
        }
    } catch (...) {
        ready = false;
        session->handler_failed(route.pattern, std::current_exception());
    }
    if (!ready) {
        co_await session->refuse(Status::internal_server_error, Code::internal_error);
    } else {
        try {
            co_await route.websocket->run(ctx, route.pattern);
        } catch (const std::exception& e) {
            logger().error("websocket route '{}' failed: {}", route.pattern, e.what());
        }
    }
    co_await session->finish();
}

}  // namespace detail

// The public WebSocket API: thin forwards to the session.

const Request& WebSocket::request() const noexcept { return session_->request(); }
std::span<const std::string> WebSocket::subprotocols() const noexcept {
    return session_->subprotocols();
}
WebSocket::State WebSocket::state() const noexcept { return session_->state(); }
std::optional<Code> WebSocket::close_code() const noexcept { return session_->close_code(); }
std::string_view WebSocket::close_reason() const noexcept { return session_->close_reason(); }

Task<void> WebSocket::accept(std::string subprotocol,
                             std::vector<std::pair<std::string, std::string>> headers) {
    auto session = session_;
    co_await session->accept(std::move(subprotocol), std::move(headers));
}

Task<void> WebSocket::close(Code code, std::string reason) {
    auto session = session_;
    co_await session->close(code, std::move(reason));
}

// The hot paths return the session's own coroutine: no frame of their own.
Task<void> WebSocket::send_text(std::string text) {
    return session_->send(session_, std::move(text), false);
}

Task<void> WebSocket::send_bytes(std::string bytes) {
    return session_->send(session_, std::move(bytes), true);
}

Task<void> WebSocket::send_json(const boost::json::value& value) {
    return session_->send(session_, detail::serialize_json(value), false);
}

bool WebSocket::queue_text(std::string text) {
    return session_->queue(session_, std::move(text), false);
}

bool WebSocket::queue_bytes(std::string bytes) {
    return session_->queue(session_, std::move(bytes), true);
}

bool WebSocket::queue_json(const boost::json::value& value) {
    return session_->queue(session_, detail::serialize_json(value), false);
}

// Each returns the session's receive loop itself: one coroutine frame per message.
Task<Data> WebSocket::receive() { return session_->receive_as<Data>(session_, Encoding::none); }

Task<Data> WebSocket::receive_json() {
    return session_->receive_as<Data>(session_, Encoding::json);
}

Task<std::string> WebSocket::receive_text() {
    auto message = co_await session_->receive_as<Data>(session_, Encoding::text);
    co_return std::move(message).str();
}

Task<std::string> WebSocket::receive_bytes() {
    auto message = co_await session_->receive_as<Data>(session_, Encoding::bytes);
    co_return std::move(message).str();
}

WebSocketDisconnect::WebSocketDisconnect(Code code, std::string reason)
    : std::runtime_error("WebSocket closed with code " +
                         std::to_string(static_cast<unsigned>(code)) +
                         (reason.empty() ? std::string() : ": " + reason)),
      code_(code),
      reason_(std::move(reason)) {}

const boost::json::value& Data::json() const {
    if (!json_) {
        throw std::logic_error("flamecpp: Data::json() needs the json encoding");
    }
    return *json_;
}

namespace detail {

Task<std::optional<Data>> next_message(WebSocket& ws, Encoding encoding) {
    auto session = WebSocketAccess::handle(ws);
    return session->receive_as<std::optional<Data>>(session, encoding);
}

/// Whether `error` is the WebSocketDisconnect a receive or send threw because the connection
/// had closed: the normal way for a conversation loop to end, not a handler failure.
bool is_disconnect(const WebSocket& ws, const std::exception_ptr& error) noexcept {
    if (ws.state() == WebSocket::State::connected) {
        return false;
    }
    try {
        std::rethrow_exception(error);
    } catch (const WebSocketDisconnect&) {
        return true;
    } catch (...) {
        return false;
    }
}

Task<void> fail_websocket(WebSocket& ws, std::string_view route, std::exception_ptr error) {
    if (is_disconnect(ws, error)) {
        co_return;
    }
    WebSocketAccess::session(ws).handler_failed(route, error);
    if (ws.state() == WebSocket::State::connecting) {
        co_await WebSocketAccess::session(ws).refuse(Status::internal_server_error,
                                                     Code::internal_error);
    } else {
        try {
            co_await ws.close(Code::internal_error, "internal error");
        } catch (const std::exception&) {
        }
    }
}

Task<void> finish_websocket(WebSocket& ws) {
    switch (ws.state()) {
        case WebSocket::State::connecting:
            logger().warn(
                "websocket route '{}': the handler neither accepted nor closed; "
                "refusing the handshake",
                ws.request().route());
            co_await ws.close(Code::policy_violation);
            break;
        case WebSocket::State::connected:
            try {
                co_await ws.close(Code::normal);
            } catch (const std::exception&) {
            }
            break;
        case WebSocket::State::closed:
            break;
    }
}

void report_websocket_error(WebSocket& ws,
                            std::string_view route,
                            std::exception_ptr error) noexcept {
    WebSocketAccess::session(ws).handler_failed(route, std::move(error));
}

void log_websocket_error(std::string_view route, std::exception_ptr error) noexcept {
    try {
        std::rethrow_exception(error);
    } catch (const std::exception& e) {
        logger().error("websocket handler of route '{}' threw: {}", route, e.what());
    } catch (...) {
        logger().error("websocket handler of route '{}' threw a non-standard exception", route);
    }
}

}  // namespace detail
}  // namespace flamecpp
