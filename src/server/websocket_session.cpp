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
#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
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
          read_buffer_(std::make_unique_for_overwrite<char[]>(read_buffer_size)) {
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
        conn.phase = Connection::Phase::busy;
        conn.set_deadline(Clock::time_point::max());
    }

    /// Called on the connection's thread when its handler is done: waits for close tasks
    /// still under way, then releases the HTTP session's Connection and the socket.
    Task<void> finish() {
        asio::steady_timer wait(worker_.io);
        while (internal_tasks_ > 0) {
            wait.expires_after(std::chrono::milliseconds(10));
            auto [ec] = co_await wait.async_wait(use_tuple);
            (void)ec;
        }
        mark_closed(Code::abnormal);
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

    bool on_owner_thread() const noexcept {
        return worker_.io.get_executor().running_in_this_thread();
    }

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
        writing_ = true;                       // nothing may write before the 101
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
            auto self = shared_from_this();
            co_await asio::co_spawn(worker_.io, self->close(code, std::move(reason)),
                                    asio::use_awaitable);
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
        close_reason_ = reason;
        if (conn_ != nullptr) {
            conn_->set_deadline(Clock::now() + worker_.app.limits.websocket_close_timeout);
        }
        co_await send_close(code, close_reason_);
        // The handshake ends with the peer's close frame, read here unless a receive() is
        // reading already; the reaper drops the connection at the close timeout.
        co_await wait_until_closed();
        SPDLOG_LOGGER_DEBUG(&logger(), "websocket closed with {}", static_cast<int>(code));
    }

    /// `keep` holds the session for the length of the send (the caller's WebSocket handle
    /// may go away meanwhile); it lives in this frame rather than in a wrapper coroutine.
    Task<void> send(std::shared_ptr<WebSocketSession> keep, std::string payload, bool binary) {
        require_live();
        if (!on_owner_thread()) {
            // Another thread's task: run the send on the connection's own thread.
            co_await asio::co_spawn(worker_.io, send(keep, std::move(payload), binary),
                                    asio::use_awaitable);
            co_return;
        }
        if (state_ == WebSocket::State::connecting) {
            throw std::logic_error("flamecpp: WebSocket send before accept()");
        }
        if (writing_) {
            co_await wait_for_writes();  // a coroutine frame only when another write runs
        }
        if (state_ == WebSocket::State::closed || close_sent_) {
            throw WebSocketDisconnect(close_code_.value_or(Code::abnormal), close_reason_);
        }
        writing_ = true;
        WriteGuard guard(this);
        // As write_frame(), written out here: one coroutine frame fewer per message.
        const OutgoingFrame frame(binary ? ws::Opcode::binary : ws::Opcode::text, payload);
        error_code ec;
        std::size_t sent = 0;
        if (!write_now(frame, sent)) {
            auto [rest_ec, n] = co_await write_rest(frame, sent);
            (void)n;
            ec = rest_ec;
        }
        if (ec) {
            lost();
            throw WebSocketDisconnect(close_code_.value_or(Code::abnormal), close_reason_);
        }
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
                    co_await fail(Code::protocol_error);
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
                        co_await fail(Code::protocol_error);
                        break;
                    }
                    if (!continuation) {
                        in_message_ = true;
                        message_binary_ = frame.opcode == ws::Opcode::binary;
                        message_.clear();
                    }
                    if (frame.length > limit - std::min(limit, message_.size())) {
                        co_await fail(Code::message_too_big);
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
                        co_await fail(Code::invalid_payload);
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
                    if (writing_) {
                        co_await wait_for_writes();
                    }
                    if (!close_sent_ && state_ != WebSocket::State::closed) {
                        writing_ = true;
                        WriteGuard guard(this);
                        const bool ok = co_await write_frame(ws::Opcode::pong, control_payload_);
                        (void)ok;  // if it failed, the next read fails too
                    }
                } else if (frame.opcode == ws::Opcode::close) {
                    co_await on_peer_close();
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
    struct WriteGuard {
        WebSocketSession* session;
        WriteGuard(const WriteGuard&) = delete;
        explicit WriteGuard(WebSocketSession* s) : session(s) {}
        ~WriteGuard() { session->unlock_writes(); }
    };

    /// Marks the single reader; when it stops, a close() waiting for the peer's close frame
    /// looks again.
    struct ReadGuard {
        WebSocketSession* session;
        ReadGuard(const ReadGuard&) = delete;
        explicit ReadGuard(WebSocketSession* s) : session(s) { session->reading_ = true; }
        ~ReadGuard() {
            session->reading_ = false;
            for (auto* waiter : session->read_waiters_) {
                waiter->cancel();
            }
        }
    };

    /// Waits until no other write is in flight: frames must not interleave.
    Task<void> wait_for_writes() {
        while (writing_) {
            co_await park(write_waiters_);
        }
    }

    /// Suspends until `waiters` is woken (a timer that never expires, cancelled to wake).
    Task<void> park(std::deque<asio::steady_timer*>& waiters) {
        asio::steady_timer waiter(worker_.io, asio::steady_timer::time_point::max());
        waiters.push_back(&waiter);
        auto [ec] = co_await waiter.async_wait(use_tuple);
        (void)ec;
        std::erase(waiters, &waiter);
    }

    void unlock_writes() noexcept {
        writing_ = false;
        if (!write_waiters_.empty()) {
            write_waiters_.front()->cancel();  // wakes the next writer
        }
    }

    /// Writes one frame; the caller holds the write lock. False when the connection is gone
    /// (it is then marked closed).
    Task<bool> write_frame(ws::Opcode opcode, std::string_view payload) {
        const OutgoingFrame frame(opcode, payload);
        std::size_t sent = 0;
        if (write_now(frame, sent)) {
            co_return true;
        }
        auto [ec, n] = co_await write_rest(frame, sent);
        (void)n;
        if (ec) {
            lost();
            co_return false;
        }
        co_return true;
    }

    /// Sends the frame with one non-blocking send(2) (payload copied behind the header) or
    /// sendmsg(2) (a gather of header and payload), without suspending. True: it all went out.
    /// False: `sent` bytes went (maybe none) and write_rest(frame, sent) sends the rest, or
    /// meets the error again and reports it. The caller holds the write lock.
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

    /// Sends our close frame once; from then on no data frame goes out.
    Task<void> send_close(Code code, std::string_view reason) {
        close_sent_ = true;
        if (!close_code_) {
            close_code_ = code;
        }
        if (conn_ != nullptr) {
            conn_->set_deadline(Clock::now() + worker_.app.limits.websocket_close_timeout);
        }
        co_await wait_for_writes();
        writing_ = true;
        WriteGuard guard(this);
        if (state_ == WebSocket::State::closed) {
            co_return;
        }
        const std::string payload =
            ws::make_close_payload(static_cast<std::uint16_t>(code), reason);
        const bool ok = co_await write_frame(ws::Opcode::close, payload);
        (void)ok;  // a failed write marks the connection closed
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
    Task<void> on_peer_close() {
        std::uint16_t code = 0;
        std::string_view reason;
        const auto result = ws::parse_close_payload(control_payload_, code, reason);
        if (result == ws::CloseResult::protocol_error) {
            co_await fail(Code::protocol_error);
            co_return;
        }
        if (result == ws::CloseResult::invalid_utf8) {
            co_await fail(Code::invalid_payload);
            co_return;
        }
        if (!close_sent_) {
            close_code_ = static_cast<Code>(code);
            close_reason_ = std::string(reason);
            co_await send_close(static_cast<Code>(code), {});
        }
        end_connection();
    }

    /// Fails the connection (RFC 6455 7.1.7): our close frame with `code`, unless one went
    /// out already, then the TCP teardown.
    Task<void> fail(Code code) {
        SPDLOG_LOGGER_DEBUG(&logger(), "websocket failed with {}", static_cast<int>(code));
        if (!close_sent_) {
            close_code_ = code;
            co_await send_close(code, {});
        }
        end_connection();
    }

    /// The close handshake is over (or the connection failed): the connection is closed for
    /// the handler at once, and the socket is torn down in the background.
    void end_connection() {
        if (state_ == WebSocket::State::closed) {
            return;  // a write failed meanwhile and closed the socket
        }
        state_ = WebSocket::State::closed;
        in_message_ = false;
        if (conn_ != nullptr) {
            conn_->set_deadline(Clock::now() + worker_.app.limits.websocket_close_timeout);
        }
        ++internal_tasks_;
        asio::co_spawn(worker_.io, teardown(shared_from_this()), asio::detached);
    }

    static Task<void> teardown(std::shared_ptr<WebSocketSession> self) {
        try {
            co_await drain_and_close(*self->socket_);
        } catch (const std::exception& e) {
            SPDLOG_LOGGER_DEBUG(&logger(), "websocket teardown failed: {}", e.what());
        }
        --self->internal_tasks_;
    }

    /// The TCP connection broke (or was dropped by the reaper) without a finished close
    /// handshake: 1006 unless a close frame went out.
    void lost() noexcept {
        mark_closed(Code::abnormal);
        in_message_ = false;
        error_code ignored;
        socket_->close(ignored);
    }

    void require_owner_thread(const char* what) const {
        if (!on_owner_thread()) {
            throw std::logic_error(std::string("flamecpp: WebSocket ") + what +
                                   " must run on the connection's own thread");
        }
    }

    void mark_closed(Code code) {
        state_ = WebSocket::State::closed;
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

    void start_close(Code code, const char* reason) {
        if (state_ != WebSocket::State::connected || close_sent_) {
            return;
        }
        ++internal_tasks_;
        asio::co_spawn(worker_.io, close_detached(shared_from_this(), code, reason),
                       asio::detached);
    }

    static Task<void> close_detached(std::shared_ptr<WebSocketSession> self,
                                     Code code,
                                     std::string reason) {
        try {
            co_await self->close(code, std::move(reason));
        } catch (const std::exception& e) {
            SPDLOG_LOGGER_DEBUG(&logger(), "websocket close failed: {}", e.what());
        }
        --self->internal_tasks_;
    }

    static void on_expire(Connection& c) {
        auto* self = static_cast<WebSocketSession*>(c.owner);
        if (self->state_ == WebSocket::State::connected && !self->close_sent_) {
            // Idle: start the close handshake, bounded by the close timeout.
            c.set_deadline(Clock::now() + self->worker_.app.limits.websocket_close_timeout);
            self->start_close(Code::going_away, "idle timeout");
            return;
        }
        // The peer did not finish the close handshake (or the teardown) in time: drop it.
        error_code ignored;
        self->socket_->close(ignored);
    }

    static void on_shutdown(Connection& c) {
        auto* self = static_cast<WebSocketSession*>(c.owner);
        self->start_close(Code::going_away, "server shutdown");
    }

    Worker& worker_;
    /// Destroyed by finish() on the connection's thread while its io_context runs; handles
    /// that outlive the connection (or the server) must not touch it, or the worker, after.
    std::optional<tcp::socket> socket_;
    std::atomic<bool> finished_{false};
    int internal_tasks_ = 0;  ///< close and teardown tasks under way
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
    bool close_sent_ = false;
    bool writing_ = false;
    /// A frame went out since the last socket read: the next read waits for the queued work
    /// first (Worker::after_queued_work).
    bool wrote_since_read_ = false;
    bool reading_ = false;
    std::deque<asio::steady_timer*> write_waiters_;
    std::deque<asio::steady_timer*> read_waiters_;
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
