// Reading: frames into messages, pings answered, the peer's close, protocol errors.

#include <algorithm>
#include <stdexcept>
#include <type_traits>

#include <boost/asio/read.hpp>

#include "app/app_impl.hpp"
#include "server/websocket/session.hpp"

namespace flamecpp::detail {

template <class Result>
Task<Result> WebSocketSession::receive_as(std::shared_ptr<WebSocketSession> keep,
                                          Encoding encoding) {
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
            const auto parsed = ws::parse_client_header(
                std::span<const char>(read_buffer_.get() + read_begin_, read_end_ - read_begin_),
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
                const auto into =
                    asio::buffer(read_buffer_.get() + read_end_, read_buffer_size - read_end_);
                error_code ec;
                std::size_t n = 0;
                if (!transport_->is_tls()) [[likely]] {
                    auto op = transport_->read_some_plain(into);
                    std::tie(ec, n) = co_await std::move(op);
                } else {
                    std::tie(ec, n) = co_await transport_->read_some(into);
                }
                if (ec) {
                    lost();
                    break;
                }
                read_end_ += n;
                heard();
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
            const auto length = static_cast<std::size_t>(frame.length);
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
    // The endpoint's business, not the frame loop's: the message as its encoding wants it.
    const char* refusal = decode(data, encoding);
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

Task<bool> WebSocketSession::read_payload(std::string& payload, const ws::FrameHeader& frame) {
    const std::size_t start = payload.size();
    const auto length = static_cast<std::size_t>(frame.length);
    const std::size_t buffered = std::min(length, read_end_ - read_begin_);
    payload.append(read_buffer_.get() + read_begin_, buffered);
    read_begin_ += buffered;
    while (payload.size() - start < length) {
        const std::size_t have = payload.size();
        const std::size_t piece = std::min(length - (have - start), payload_read_chunk);
        payload.resize(have + piece);
        auto [ec, n] = co_await transport_->read(asio::buffer(payload.data() + have, piece));
        (void)n;
        if (ec) {
            lost();
            co_return false;
        }
        heard();
    }
    ws::apply_mask(payload.data() + start, length, frame.mask);
    co_return true;
}

void WebSocketSession::make_room() noexcept {
    if (read_begin_ == read_end_) {
        read_begin_ = read_end_ = 0;
    } else if (read_buffer_size - read_end_ < ws::max_client_header) {
        std::memmove(read_buffer_.get(), read_buffer_.get() + read_begin_, read_end_ - read_begin_);
        read_end_ -= read_begin_;
        read_begin_ = 0;
    }
}

void WebSocketSession::on_peer_close() {
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

void WebSocketSession::touch() noexcept {
    if (conn_ != nullptr && !close_sent_) {
        conn_->restart_at_next_sweep(quiet_period());
    }
}

Clock::duration WebSocketSession::quiet_period() const noexcept {
    const Limits& limits = worker_.app.limits;
    return limits.websocket_ping_interval > Clock::duration::zero()
               ? Clock::duration(limits.websocket_ping_interval)
               : Clock::duration(limits.websocket_idle_timeout);
}

template Task<Data> WebSocketSession::receive_as<Data>(std::shared_ptr<WebSocketSession>, Encoding);
template Task<std::optional<Data>> WebSocketSession::receive_as<std::optional<Data>>(
    std::shared_ptr<WebSocketSession>, Encoding);

}  // namespace flamecpp::detail
