// Writing: a send from its own frame, the send queue and its writer, queue-only sends.

#include <stdexcept>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include "app/app_impl.hpp"
#include "log.hpp"
#include "server/websocket/session.hpp"

namespace flamecpp::detail {

Task<void> WebSocketSession::send(std::shared_ptr<WebSocketSession> keep,
                                  std::string payload,
                                  bool binary) {
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

bool WebSocketSession::queue(std::shared_ptr<WebSocketSession> self,
                             std::string payload,
                             bool binary,
                             bool framed) {
    QueuedFrame frame{std::move(payload), binary ? ws::Opcode::binary : ws::Opcode::text};
    frame.counted = true;
    frame.framed = framed;
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

Task<void> WebSocketSession::park(Waiters& waiters) {
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

void WebSocketSession::complete(SendDone done, std::exception_ptr error) {
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

std::exception_ptr WebSocketSession::disconnect_error() const {
    return std::make_exception_ptr(
        WebSocketDisconnect(close_code_.value_or(Code::abnormal), close_reason_));
}

asio::awaitable<void> WebSocketSession::on_owner(Task<void>& task) {
    return asio::async_initiate<const asio::use_awaitable_t<>&, void(std::exception_ptr)>(
        [](SendDone done, const std::shared_ptr<WebSocketSession>& self, Task<void> job_task) {
            OwnerJob job{self, std::move(job_task), std::move(done)};
            if (!self->mailbox_->post(job)) {
                // The server has stopped: its threads are joined, so its state is ours.
                complete(std::move(*job.done), self->disconnect_error());
            }
        },
        asio::use_awaitable, shared_from_this(), std::move(task));
}

asio::awaitable<void> WebSocketSession::wait_in_queue(QueuedFrame& frame) {
    return asio::async_initiate<const asio::use_awaitable_t<>&, void(std::exception_ptr)>(
        [this](SendDone done, QueuedFrame queued) {
            queued.done.emplace(std::move(done));
            submit(std::move(queued));
        },
        asio::use_awaitable, std::move(frame));
}

void WebSocketSession::submit(QueuedFrame frame) {
    const bool data = !ws::is_control(frame.opcode);
    if (state_ == WebSocket::State::closed || !transport_ || (data && close_sent_)) {
        // Closed (or closing, for data): a frame handed over from another thread after
        // that, or a pong for a connection that has just broken.
        end_frame(frame, disconnect_error());
        return;
    }
    if (writing_) {
        if (frame.opcode == ws::Opcode::ping) {
            // The server's keep-alive ping goes ahead of the queued data (after a frame
            // already begun), so that its timeout measures the client, not the queue.
            // (Frames cannot be assigned: only the ends of the queue move.)
            if (!queue_.empty() && queue_.front().sent != 0) {
                QueuedFrame begun = std::move(queue_.front());
                queue_.pop_front();
                queue_.push_front(std::move(frame));
                queue_.push_front(std::move(begun));
            } else {
                queue_.push_front(std::move(frame));
            }
            return;
        }
        queue_.push_back(std::move(frame));
        return;
    }
    writing_ = true;
    const OutgoingFrame out(frame.opcode, frame.payload, frame.framed);
    if (write_now(out, frame.sent)) {
        writing_ = false;
        end_frame(frame, nullptr);
        return;
    }
    queue_.push_front(std::move(frame));  // the writer sends the rest first
    start_writer();
}

void WebSocketSession::end_frame(QueuedFrame& frame, std::exception_ptr error) {
    if (frame.counted) {
        queued_bytes_.fetch_sub(frame.payload.size(), std::memory_order_relaxed);
    }
    if (frame.done) {
        complete(std::move(*frame.done), std::move(error));
        frame.done.reset();
    }
}

void WebSocketSession::fail_queue(bool keep_control) {
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

void WebSocketSession::start_writer() {
    ++internal_tasks_;
    asio::co_spawn(worker_.io, write_queue(shared_from_this()), asio::detached);
}

Task<void> WebSocketSession::write_queue(std::shared_ptr<WebSocketSession> self) {
    auto& queue = self->queue_;
    while (!queue.empty()) {
        QueuedFrame frame = std::move(queue.front());
        queue.pop_front();
        const OutgoingFrame out(frame.opcode, frame.payload, frame.framed);
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

// noexcept: restarting the writer allocates its coroutine frame; when memory runs out, ending
// the process is the answer (a queue nobody writes would hang its senders).
void WebSocketSession::release_writer() noexcept {  // NOLINT(bugprone-exception-escape)
    if (!queue_.empty()) {
        if (transport_ && transport_->is_open()) {
            start_writer();
            return;
        }
        fail_queue(false);
    }
    writer_done();
}

bool WebSocketSession::write_now(const OutgoingFrame& frame, std::size_t& sent) {
    error_code ec;
    sent = frame.copied ? transport_->write_now(frame.contiguous(), ec)
                        : transport_->write_now(frame.buffers, ec);
    wrote_since_read_ = true;
    return sent == frame.total() && !ec;  // TLS: all accepted, some ciphertext left
}

asio::awaitable<std::tuple<error_code, std::size_t>> WebSocketSession::write_rest(
    const OutgoingFrame& frame, std::size_t sent) {
    if (frame.copied) {
        return transport_->write(frame.contiguous() + sent);
    }
    return transport_->write(frame.rest(sent));
}

void WebSocketSession::queue_overflowed() {
    if (queue_full_ != QueueFull::close || state_ != WebSocket::State::connected || close_sent_) {
        return;
    }
    SPDLOG_LOGGER_DEBUG(&logger(), "websocket send queue full: closing with 1008");
    close_reason_ = "send queue full";
    queue_close(Code::policy_violation, close_reason_, /*drop_data=*/true);
    start_close_wait();
}

}  // namespace flamecpp::detail
