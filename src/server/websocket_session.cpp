// WebSockets on Beast's websocket::stream over the HTTP session's socket. The session keeps
// the state Starlette's WebSocket has (connecting, connected, closed; the close code), queues
// writes so frames never interleave, and records the close code that went on the wire.

#include "server/websocket_session.hpp"

#include <array>
#include <atomic>
#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/websocket/error.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <boost/json/serialize.hpp>

#include <flamecpp/websocket.hpp>

#include "app/app_impl.hpp"
#include "app/components.hpp"
#include "http/ascii.hpp"
#include "http/request_builder.hpp"
#include "http/writer.hpp"
#include "json/reader.hpp"
#include "json/writer.hpp"
#include "log.hpp"

namespace flamecpp {
namespace detail {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
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

/// The close code Beast sent when it failed the connection for `ec` (RFC 6455 7.4.1).
Code code_for_failure(const error_code& ec) {
    if (ec == websocket::error::message_too_big) {
        return Code::message_too_big;
    }
    if (ec == websocket::error::bad_frame_payload || ec == websocket::error::bad_close_payload) {
        return Code::invalid_payload;
    }
    if (ec == websocket::condition::protocol_violation) {
        return Code::protocol_error;
    }
    return Code::abnormal;  // the TCP connection ended without a close frame
}

/// Sends FIN after the close frame, reads and drops what the peer still sends (so closing
/// does not turn into a reset that could destroy our close frame before the peer reads it),
/// and closes at the peer's EOF or after `teardown_drain_limit`, whichever comes first.
constexpr auto teardown_drain_limit = std::chrono::seconds(1);

}  // namespace

/// The WebSocket's TCP socket. A type of its own so that Beast's websocket::stream finds our
/// teardown by argument-dependent lookup: Beast's own, for the server role, waits for the
/// peer's EOF without a time limit, so a peer that keeps TCP open after the close handshake
/// (or after a protocol error) would hold the connection, and on_disconnect, indefinitely.
/// RFC 6455 7.1.1: the server should close the TCP connection first.
class WsSocket : public tcp::socket {
public:
    explicit WsSocket(tcp::socket&& socket) : tcp::socket(std::move(socket)) {}
};

namespace {

Task<void> drain_and_close(WsSocket& socket) {
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

template <class TeardownHandler>
void async_teardown(beast::role_type, WsSocket& socket, TeardownHandler&& handler) {
    asio::co_spawn(socket.get_executor(), drain_and_close(socket),
                   [handler = std::forward<TeardownHandler>(handler)](std::exception_ptr) mutable {
                       handler(error_code{});
                   });
}

void teardown(beast::role_type, WsSocket& socket, error_code& ec) {
    socket.shutdown(tcp::socket::shutdown_both, ec);
    socket.close(ec);
}

class WebSocketSession : public std::enable_shared_from_this<WebSocketSession> {
public:
    WebSocketSession(Worker& worker, tcp::socket socket, const Request& request, Connection& conn)
        : worker_(worker), conn_(&conn) {
        ws_.emplace(std::move(socket));
        // Handles may outlive the HTTP session that parsed the request: keep a copy.
        RequestBuilder(request_).copy_from(request, request_storage_);
        if (auto offered = request_.header("Sec-WebSocket-Protocol")) {
            for_each_list_item(*offered, [this](std::string_view item) {
                subprotocols_.emplace_back(item);
                return false;
            });
        }
        ws_->read_message_max(worker.app.limits.max_websocket_message_bytes);
        ws_->auto_fragment(false);
        conn.socket = &ws_->next_layer();
        conn.owner = this;
        conn.on_expire = &on_expire;
        conn.on_shutdown = &on_shutdown;
        conn.phase = Connection::Phase::busy;
        conn.deadline = Clock::time_point::max();
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
        ws_.reset();
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
        std::string server = worker_.app.server_header;
        std::string date(worker_.date.now());
        ws_->set_option(websocket::stream_base::decorator(
            [server, date, subprotocol, headers](websocket::response_type& res) {
                res.set(http::field::server, server);
                res.set(http::field::date, date);  // the contract: every response has a Date
                if (!subprotocol.empty()) {
                    res.set(http::field::sec_websocket_protocol, subprotocol);
                }
                for (const auto& [name, value] : headers) {
                    res.insert(name, value);
                }
            }));
        http::request<http::empty_body> handshake;
        handshake.method_string(request_.method_name());
        handshake.target(request_.target());
        handshake.version(request_.version());
        for (const auto& h : request_.headers()) {
            handshake.insert(h.name, h.value);
        }
        state_ = WebSocket::State::connected;  // a concurrent accept() now fails
        auto [ec] = co_await ws_->async_accept(handshake, use_tuple);
        if (ec) {
            mark_closed(Code::abnormal);
            throw WebSocketDisconnect(Code::abnormal, "handshake failed: " + ec.message());
        }
        touch();
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
        auto [ec, n] = co_await asio::async_write(ws_->next_layer(), asio::buffer(out), use_tuple);
        (void)n;
        error_code ignored;
        ws_->next_layer().shutdown(tcp::socket::shutdown_both, ignored);
        ws_->next_layer().close(ignored);
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
        close_sent_ = true;
        close_code_ = code;
        if (reason.size() > 123) {
            reason.resize(123);  // a close frame's payload is at most 125 bytes (RFC 6455 5.5)
        }
        close_reason_ = reason;
        WriteGuard guard = co_await lock_writes();
        if (conn_ != nullptr) {
            conn_->deadline = Clock::now() + worker_.app.limits.websocket_close_timeout;
        }
        websocket::close_reason wire(static_cast<websocket::close_code>(code), reason);
        auto [ec] = co_await ws_->async_close(wire, use_tuple);
        (void)ec;  // only the debug log reads it
        SPDLOG_LOGGER_DEBUG(&logger(), "websocket closed with {}: {}", static_cast<int>(code),
                            ec ? ec.message() : "clean");
        state_ = WebSocket::State::closed;
        error_code ignored;
        ws_->next_layer().close(ignored);
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
        if (state_ == WebSocket::State::closed || close_sent_) {
            throw WebSocketDisconnect(close_code_.value_or(Code::abnormal), close_reason_);
        }
        if (writing_) {
            co_await wait_for_writes();  // a coroutine frame only when another write runs
        }
        writing_ = true;
        WriteGuard guard(this);
        ws_->binary(binary);
        auto [ec, n] = co_await ws_->async_write(asio::buffer(payload), use_tuple);
        (void)n;
        if (ec) {
            mark_closed(close_sent_ ? close_code_.value_or(Code::abnormal) : Code::abnormal);
            throw WebSocketDisconnect(*close_code_, close_reason_);
        }
    }

    /// `keep`: as for send().
    Task<Data> receive(std::shared_ptr<WebSocketSession> keep) {
        (void)keep;
        require_live();
        require_owner_thread("receive");
        if (state_ == WebSocket::State::connecting) {
            throw std::logic_error("flamecpp: WebSocket receive before accept()");
        }
        if (state_ == WebSocket::State::closed) {
            throw WebSocketDisconnect(close_code_.value_or(Code::abnormal), close_reason_);
        }
        buffer_.clear();
        touch();
        auto [ec, n] = co_await ws_->async_read(buffer_, use_tuple);
        if (!ec) {
            touch();
            Data data(beast::buffers_to_string(buffer_.data()), !ws_->got_text());
            if (buffer_.capacity() > 64 * 1024) {
                buffer_ = beast::flat_buffer();  // do not keep a large message's buffer
            }
            co_return data;
        }
        if (!close_sent_) {
            if (ec == websocket::error::closed) {
                const auto& peer = ws_->reason();
                close_code_ = peer.code == websocket::close_code::none
                                  ? Code::no_status
                                  : static_cast<Code>(peer.code);
                close_reason_ = std::string(peer.reason.data(), peer.reason.size());
            } else {
                close_code_ = code_for_failure(ec);
                SPDLOG_LOGGER_DEBUG(&logger(), "websocket failed ({}): {}",
                                    static_cast<int>(*close_code_), ec.message());
            }
        }
        state_ = WebSocket::State::closed;
        error_code ignored;
        ws_->next_layer().close(ignored);
        throw WebSocketDisconnect(*close_code_, close_reason_);
    }

private:
    struct WriteGuard {
        WebSocketSession* session;
        WriteGuard(const WriteGuard&) = delete;
        WriteGuard(WriteGuard&& other) noexcept : session(std::exchange(other.session, nullptr)) {}
        explicit WriteGuard(WebSocketSession* s) : session(s) {}
        ~WriteGuard() {
            if (session != nullptr) {
                session->unlock_writes();
            }
        }
    };

    /// Waits until no other write is in flight: Beast allows one write (or close) at a time.
    Task<void> wait_for_writes() {
        while (writing_) {
            asio::steady_timer waiter(worker_.io, asio::steady_timer::time_point::max());
            write_waiters_.push_back(&waiter);
            auto [ec] = co_await waiter.async_wait(use_tuple);
            (void)ec;
            std::erase(write_waiters_, &waiter);
        }
    }

    Task<WriteGuard> lock_writes() {
        co_await wait_for_writes();
        writing_ = true;
        co_return WriteGuard(this);
    }

    void unlock_writes() noexcept {
        writing_ = false;
        if (!write_waiters_.empty()) {
            write_waiters_.front()->cancel();  // wakes the next writer
        }
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

    /// Restarts the idle clock (unless a close handshake is under way).
    void touch() noexcept {
        if (conn_ != nullptr && !close_sent_) {
            conn_->deadline = Clock::now() + worker_.app.limits.websocket_idle_timeout;
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
        if (self->state_ == WebSocket::State::connected && !self->close_sent_ &&
            !self->ws_->is_open()) {
            // Beast is already closing (the peer's close frame arrived, or Beast failed the
            // connection) and its teardown is bounded: let it finish with its own code.
            c.deadline = Clock::now() + self->worker_.app.limits.websocket_close_timeout;
            return;
        }
        if (self->close_sent_ || self->state_ != WebSocket::State::connected) {
            // The peer did not finish the close handshake in time: drop the connection.
            error_code ignored;
            self->ws_->next_layer().close(ignored);
            return;
        }
        c.deadline = Clock::now() + self->worker_.app.limits.websocket_close_timeout;
        self->start_close(Code::going_away, "idle timeout");
    }

    static void on_shutdown(Connection& c) {
        auto* self = static_cast<WebSocketSession*>(c.owner);
        self->start_close(Code::going_away, "server shutdown");
    }

    Worker& worker_;
    /// Destroyed by finish() on the connection's thread while its io_context runs; handles
    /// that outlive the connection (or the server) must not touch it, or the worker, after.
    std::optional<websocket::stream<WsSocket>> ws_;
    std::atomic<bool> finished_{false};
    int internal_tasks_ = 0;  ///< close tasks spawned by the reaper or a shutdown
    std::string request_storage_;
    Request request_;
    Connection* conn_;
    std::vector<std::string> subprotocols_;
    beast::flat_buffer buffer_;
    WebSocket::State state_ = WebSocket::State::connecting;
    std::optional<Code> close_code_;
    std::string close_reason_;
    bool close_sent_ = false;
    bool writing_ = false;
    std::deque<asio::steady_timer*> write_waiters_;
};

struct WebSocketAccess {
    static WebSocketSession& session(WebSocket& ws) noexcept { return *ws.session_; }
};

bool is_websocket_upgrade(const Request& request) noexcept {
    auto upgrade = request.header("Upgrade");
    auto connection = request.header("Connection");
    return request.method() == Method::get && upgrade && connection &&
           has_token(*upgrade, "websocket") && has_token(*connection, "upgrade");
}

namespace {

/// RFC 6455 4.2.1: version 13 and a 16-byte base64 key; checked before any user code runs.
std::optional<Response> check_handshake(const Request& request) {
    auto version = request.header("Sec-WebSocket-Version");
    if (!version || *version != "13") {
        return Response::text("Upgrade Required: WebSocket version 13", Status::upgrade_required)
            .with_header("Sec-WebSocket-Version", "13");
    }
    auto key = request.header("Sec-WebSocket-Key");
    if (!key || key->size() != 24 || key->substr(22) != "==") {
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

Task<Data> WebSocket::receive() { return session_->receive(session_); }

Task<std::string> WebSocket::receive_text() {
    auto message = co_await receive();
    if (message.is_binary()) {
        co_await close(Code::unsupported_data, "expected a text message");
        throw WebSocketDisconnect(Code::unsupported_data, "expected a text message");
    }
    co_return std::move(message).str();
}

Task<std::string> WebSocket::receive_bytes() {
    auto message = co_await receive();
    if (message.is_text()) {
        co_await close(Code::unsupported_data, "expected a binary message");
        throw WebSocketDisconnect(Code::unsupported_data, "expected a binary message");
    }
    co_return std::move(message).str();
}

Task<Data> WebSocket::receive_json() {
    auto message = co_await receive();
    bool ok = true;
    try {
        message.set_json(
            std::make_shared<const boost::json::value>(detail::parse_json(message.str())));
    } catch (const detail::JsonError&) {
        ok = false;
    }
    if (!ok) {
        co_await close(Code::unsupported_data, "expected a JSON message");
        throw WebSocketDisconnect(Code::unsupported_data, "expected a JSON message");
    }
    co_return message;
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
    std::optional<Data> message;
    try {
        switch (encoding) {
            case Encoding::none: {
                auto data = co_await ws.receive();
                message = std::move(data);
                break;
            }
            case Encoding::text: {
                auto text = co_await ws.receive_text();
                message = Data(std::move(text), false);
                break;
            }
            case Encoding::bytes: {
                auto bytes = co_await ws.receive_bytes();
                message = Data(std::move(bytes), true);
                break;
            }
            case Encoding::json: {
                auto data = co_await ws.receive_json();
                message = std::move(data);
                break;
            }
        }
    } catch (const WebSocketDisconnect&) {
        message.reset();
    }
    co_return message;
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
