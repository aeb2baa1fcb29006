// Closing: the close handshake from either side, failures, the TCP teardown, the reaper's hooks.

#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>

#include "app/app_impl.hpp"
#include "log.hpp"
#include "server/websocket/session.hpp"

namespace flamecpp::detail {
namespace {

Task<void> drain_and_close(Transport& transport) {
    transport.shutdown_send();
    asio::steady_timer limit(transport.get_executor(), teardown_drain_limit);
    limit.async_wait([&transport](const error_code& wait_ec) {
        if (!wait_ec) {
            transport.cancel();  // the drain's read ends with operation_aborted
        }
    });
    std::array<char, 4096> scratch;
    std::size_t drained = 0;
    while (drained < std::size_t{4} * 1024 * 1024) {
        auto [read_ec, n] = co_await transport.read_some(asio::buffer(scratch));
        if (read_ec) {
            break;
        }
        drained += n;
    }
    limit.cancel();
    transport.close();
}

}  // namespace

Task<void> WebSocketSession::finish() {
    // An app's task may still be writing from its own frame (its write ends with an
    // error once the socket is closed): the socket stays until it has.
    while (internal_tasks_ > 0 || writing_) {
        co_await park(idle_waiters_);
    }
    mark_closed(Code::abnormal);
    fail_queue(false);
    detach();
    finished_ = true;
    transport_.reset();
    read_buffer_.reset();
    message_ = std::string();
}

Task<void> WebSocketSession::close(Code code, std::string reason) {
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

void WebSocketSession::queue_close(Code code, std::string_view reason, bool drop_data) {
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

Task<void> WebSocketSession::wait_until_closed() {
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

void WebSocketSession::fail(Code code) {
    SPDLOG_LOGGER_DEBUG(&logger(), "websocket failed with {}", static_cast<int>(code));
    if (!close_sent_) {
        close_code_ = code;
        queue_close(code, {}, /*drop_data=*/true);
    }
    end_connection();
}

void WebSocketSession::end_connection() {
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

Task<void> WebSocketSession::teardown(std::shared_ptr<WebSocketSession> self) {
    try {
        // The close frame first; a peer that does not take it is cut at the close
        // timeout, which ends the write.
        while (self->writing_) {
            co_await self->park(self->idle_waiters_);
        }
        co_await drain_and_close(*self->transport_);
    } catch (const std::exception& e) {
        SPDLOG_LOGGER_DEBUG(&logger(), "websocket teardown failed: {}", e.what());
    }
    self->task_done();
}

void WebSocketSession::lost() noexcept {
    mark_closed(Code::abnormal);
    in_message_ = false;
    if (transport_) {
        transport_->close();
    }
    fail_queue(false);
}

void WebSocketSession::mark_closed(Code code) {
    sendable_ = false;
    if (!close_code_) {
        close_code_ = code;
    }
    if (state_ != WebSocket::State::closed) {  // finish() comes here last: no second store
        state_ = WebSocket::State::closed;
    }
}

void WebSocketSession::start_close(Code code, const char* reason) {
    if (state_ != WebSocket::State::connected || close_sent_) {
        return;
    }
    close_reason_ = reason;
    queue_close(code, close_reason_, /*drop_data=*/false);
    start_close_wait();
}

void WebSocketSession::start_close_wait() {
    ++internal_tasks_;
    asio::co_spawn(worker_.io, close_wait(shared_from_this()), asio::detached);
}

Task<void> WebSocketSession::close_wait(std::shared_ptr<WebSocketSession> self) {
    try {
        co_await self->wait_until_closed();
    } catch (const std::exception& e) {
        SPDLOG_LOGGER_DEBUG(&logger(), "websocket close failed: {}", e.what());
    }
    self->task_done();
}

void WebSocketSession::deadline_passed() {
    if (state_ == WebSocket::State::connected && !close_sent_) {
        const Limits& limits = worker_.app.limits;
        if (limits.websocket_ping_interval <= Clock::duration::zero()) {
            // Idle: start the close handshake, bounded by the close timeout.
            start_close(Code::going_away, "idle timeout");
            return;
        }
        if (awaiting_pong_ && reading_) {
            // Pinged, read, and heard nothing back: the client (or the path to it) is gone.
            start_close(Code::internal_error, "ping timeout");
            return;
        }
        // Silent for the ping interval (or pinged while nothing reads, so that no pong can
        // be seen: the ping is all there is to do): ask the client to answer.
        const bool judged = reading_;
        awaiting_pong_ = true;
        submit(QueuedFrame{std::string(), ws::Opcode::ping});
        if (state_ == WebSocket::State::connected && conn_ != nullptr) {
            conn_->set_deadline(Clock::now() + (judged
                                                    ? Clock::duration(limits.websocket_ping_timeout)
                                                    : quiet_period()));
        }
        return;
    }
    // The peer did not finish the close handshake (or take the close frame, or the
    // teardown) in time: drop it. Every pending read and write ends with an error.
    lost();
}

void WebSocketSession::shutting_down() { start_close(Code::going_away, "server shutdown"); }

void WebSocketSession::abandoned() {
    mark_closed(Code::abnormal);
    fail_queue(false);
    detach();
    finished_ = true;
    transport_.reset();
}

}  // namespace flamecpp::detail
