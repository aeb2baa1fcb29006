#include "server/worker.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/socket_base.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <sys/socket.h>
#include <unistd.h>

#include "app/app_impl.hpp"
#include "log.hpp"

namespace flamecpp::detail {
namespace asio = boost::asio;
using asio::ip::tcp;

namespace {
constexpr auto reap_interval = std::chrono::milliseconds(250);

/// SO_REUSEPORT, which Asio has no type for, written to Asio's public SettableSocketOption
/// requirements (level, name, data, size) rather than with its private helper types.
class ReusePort {
public:
    explicit ReusePort(bool on) noexcept : value_(on ? 1 : 0) {}
    template <class Protocol>
    int level(const Protocol&) const noexcept {
        return SOL_SOCKET;
    }
    template <class Protocol>
    int name(const Protocol&) const noexcept {
        return SO_REUSEPORT;
    }
    template <class Protocol>
    const int* data(const Protocol&) const noexcept {
        return &value_;
    }
    template <class Protocol>
    std::size_t size(const Protocol&) const noexcept {
        return sizeof(value_);
    }

private:
    int value_;
};

thread_local Worker* this_thread_worker = nullptr;

/// Logs a task's exception. A cancellation during shutdown is the normal end of a task that
/// was waiting (false: not a failure); anything else is an error (true).
bool log_task_failure(const std::exception_ptr& error, bool draining) noexcept {
    try {
        std::rethrow_exception(error);
    } catch (const boost::system::system_error& e) {
        if (draining && e.code() == asio::error::operation_aborted) {
            SPDLOG_LOGGER_DEBUG(&logger(), "task cancelled by the shutdown");
            return false;
        }
        logger().error("task failed: {}", e.what());
    } catch (const std::exception& e) {
        logger().error("task failed: {}", e.what());
    } catch (...) {
        logger().error("task failed with a non-standard exception");
    }
    return true;
}
}  // namespace

Worker* Worker::current() noexcept { return this_thread_worker; }

void Worker::bind_to_this_thread() noexcept { this_thread_worker = this; }
void Worker::unbind_this_thread() noexcept { this_thread_worker = nullptr; }

Worker::Worker(App::Impl& app_impl, const ServerOptions& opts) : app(app_impl), options(opts) {}

void Worker::listen(const tcp::endpoint& endpoint) {
    acceptor.open(endpoint.protocol());
    acceptor.set_option(asio::socket_base::reuse_address(true));
    acceptor.set_option(ReusePort(true));
    acceptor.bind(endpoint);
    acceptor.listen(asio::socket_base::max_listen_connections);
}

void Worker::start() {
    asio::co_spawn(io, accept_loop(), asio::detached);
    asio::co_spawn(io, reap_loop(), asio::detached);
}

void Worker::attach(Connection& c) noexcept {
    if (starting_ > 0) {
        --starting_;
    }
    c.next = head_;
    c.prev = nullptr;
    if (head_ != nullptr) {
        head_->prev = &c;
    }
    head_ = &c;
    ++count_;
}

Worker::~Worker() {
    torn_down_ = true;
    mailbox->close();  // a start that failed after the startup hooks never reached abandon()
}

void Worker::detach(Connection& c) noexcept {
    if (torn_down_) {
        return;  // the connection list is gone already (see torn_down_)
    }
    if (c.prev != nullptr) {
        c.prev->next = c.next;
    } else {
        head_ = c.next;
    }
    if (c.next != nullptr) {
        c.next->prev = c.prev;
    }
    c.prev = c.next = nullptr;
    --count_;
    if (count_ + starting_ < max_connections) {
        accept_gate_.cancel();  // the accept loop may be waiting for a free slot
    }
    maybe_drained();
}

void Worker::maybe_drained() noexcept {
    if (draining && count_ + starting_ == 0 && tasks_.empty()) {
        reaper_.cancel();  // nothing is left: let the reaper end now, not at its tick
    }
}

void Worker::spawn(asio::awaitable<void> task, bool finish_on_shutdown) {
    auto it = tasks_.emplace(tasks_.end());
    it->finish_on_shutdown = finish_on_shutdown;
    auto done = [this, it](const std::exception_ptr& error) {
        if (error && log_task_failure(error, draining)) {
            handler_failed(error);
        }
        // The spawn machinery still holds the cancellation slot while this runs: the entry
        // goes once it has unwound.
        asio::post(io, [this, it] {
            it->cancel.slot().clear();
            tasks_.erase(it);
            maybe_drained();
        });
    };
    asio::co_spawn(io, std::move(task),
                   asio::bind_cancellation_slot(it->cancel.slot(), std::move(done)));
    if (draining && !finish_on_shutdown) {
        // Started while the shutdown runs: cancelled at once, like the others were. Its first
        // wait ends with operation_aborted.
        it->cancel.emit(asio::cancellation_type::terminal);
    }
}

void Worker::cancel_tasks() noexcept {
    for (OwnedTask& task : tasks_) {
        if (!task.finish_on_shutdown) {
            task.cancel.emit(asio::cancellation_type::terminal);
        }
    }
}

void Worker::abandon() noexcept {
    mailbox->close();
    for (Connection* c = head_; c != nullptr;) {
        Connection* next = c->next;
        if (c->owner != nullptr) {
            c->owner->abandoned();
        }
        c = next;
    }
    torn_down_ = true;
}

asio::awaitable<void> Worker::accept_loop() {
    asio::steady_timer backoff(io);
    while (acceptor.is_open()) {
        if (count_ + starting_ >= max_connections) {
            // Stop accepting: the kernel queues new connections until a slot frees.
            logger().warn(
                "{} connections open, the limit of this thread: not accepting more "
                "until one closes",
                count_);
            while (count_ + starting_ >= max_connections && acceptor.is_open()) {
                accept_gate_.expires_at(asio::steady_timer::time_point::max());
                auto [gate_ec] =
                    co_await accept_gate_.async_wait(asio::as_tuple(asio::use_awaitable));
                (void)gate_ec;
            }
            continue;
        }
        auto [ec, socket] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
        if (ec == asio::error::operation_aborted || (ec && !acceptor.is_open())) {
            break;
        }
        if (ec) {
            // EMFILE/ENFILE/ENOBUFS: back off instead of spinning on a full descriptor table.
            logger().warn("accept failed: {}; retrying in 100 ms", ec.message());
            backoff.expires_after(std::chrono::milliseconds(100));
            auto [wait_ec] = co_await backoff.async_wait(asio::as_tuple(asio::use_awaitable));
            (void)wait_ec;
            continue;
        }
        // Accepted before the shutdown began (its completion was already queued): served
        // like the connections the shutdown takes from the queue; dropping it would reset it.
        start_session(std::move(socket));
        if (draining) {
            break;
        }
    }
}

void Worker::start_session(tcp::socket socket) {
    boost::system::error_code opt_ec;
    socket.set_option(tcp::no_delay(true), opt_ec);
    // The sessions try each write at once and only wait for the socket when the kernel
    // would block (see HttpSession::flush_now). Asio would set O_NONBLOCK at the first
    // operation anyway; this makes its synchronous calls say would_block, not poll.
    socket.non_blocking(true, opt_ec);
    // Counted from now on: the shutdown's drain waits for it. It attaches when it starts,
    // which co_spawn may do at once, on this thread.
    ++starting_;
    try {
        asio::co_spawn(io, run_http_session(*this, std::move(socket)), asio::detached);
    } catch (...) {
        --starting_;  // no session: the socket closes
        throw;
    }
}

void Worker::session_not_started() noexcept {
    if (starting_ > 0) {
        --starting_;
    }
    maybe_drained();
}

void Worker::take_queued_connections() noexcept {
    // Closing a listener resets the connections its queue holds: the kernel completed their
    // handshakes, and their clients have sent requests. Another process sharing the port
    // (SO_REUSEPORT, a rolling restart) gets the new ones once this listener is gone, but
    // not these (unless net.ipv4.tcp_migrate_req is set). Take them first: they are served
    // like any connection open at the shutdown.
    // accept4 itself, not Asio's synchronous accept: on ECONNABORTED or EPROTO that one
    // polls the listener without a timeout, which would hold this thread past the grace.
    boost::system::error_code ec;
    acceptor.native_non_blocking(true, ec);
    if (ec) {
        return;
    }
    while (count_ + starting_ < max_connections) {
        const int fd =
            ::accept4(acceptor.native_handle(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == ECONNABORTED || errno == EPROTO || errno == EINTR) {
                continue;  // that one is gone; the next may be there
            }
            return;  // EAGAIN: the queue is empty (EMFILE and the like: what is left is reset)
        }
        tcp::socket socket(io);
        socket.assign(acceptor.local_endpoint(ec).protocol(), fd, ec);
        if (ec) {
            ::close(fd);
            continue;
        }
        try {
            start_session(std::move(socket));
        } catch (const std::exception& e) {  // bad_alloc: the connection closes
            logger().warn("cannot serve a connection at shutdown: {}", e.what());
        }
    }
}

asio::awaitable<void> Worker::reap_loop() {
    for (;;) {
        reaper_.expires_after(reap_interval);
        auto [ec] = co_await reaper_.async_wait(asio::as_tuple(asio::use_awaitable));
        (void)ec;
        auto now = Clock::now();
        bool grace_over = now >= grace_end_;
        for (Connection* c = head_; c != nullptr; c = c->next) {
            if (c->restart_after != Clock::duration::zero()) {
                c->set_deadline(now + c->restart_after);
            }
            if (grace_over || now >= c->deadline) {
                c->timed_out = true;
                c->set_deadline(Clock::time_point::max());
                if (c->owner != nullptr && !grace_over) {
                    c->owner->deadline_passed();
                } else {
                    c->transport->cancel();  // the session sees operation_aborted
                }
            }
        }
        if (draining && count_ + starting_ == 0 && tasks_.empty()) {
            co_return;
        }
        // Past the grace period the server's monitor thread stops this loop (Server::Impl),
        // whatever still waits on it, coroutines of the app included.
    }
}

void Worker::close_idle() noexcept {
    // A connection accepted just before the shutdown has its request on the way: it gets
    // Connection::fresh_grace for it.
    const auto fresh_until = Clock::now() + Connection::fresh_grace;
    for (Connection* c = head_; c != nullptr; c = c->next) {
        if (c->owner != nullptr) {
            c->owner->shutting_down();  // WebSocket: close 1001
        } else if (c->phase == Connection::Phase::idle && !c->fresh) {
            c->transport->cancel();  // between requests
        } else if (c->phase == Connection::Phase::idle) {
            c->set_deadline(std::min(c->deadline, fresh_until));
        }
    }
}

void Worker::park(Resume resume) {
    parked_.push_back(std::move(resume));
    if (!resume_posted_) {
        resume_posted_ = true;
        asio::post(io, [this] { resume_parked(); });
    }
}

void Worker::resume_parked() noexcept {
    // noexcept: resuming runs a session up to its next suspension, and a session's coroutine
    // (co_spawned) keeps its exceptions to itself.
    resume_posted_ = false;
    // A coroutine resumed here that parks again goes into parked_, for the next drain.
    resuming_.swap(parked_);
    for (Resume& resume : resuming_) {
        resume();  // runs the coroutine until it suspends again
    }
    resuming_.clear();
}

void Worker::begin_shutdown() {
    if (draining) {
        return;
    }
    take_queued_connections();
    draining = true;
    grace_end_ = Clock::now() + app.limits.shutdown_grace;
    boost::system::error_code ec;
    acceptor.close(ec);
    for (auto& hook : shutdown_hooks_) {
        try {
            hook();
        } catch (const std::exception& e) {
            logger().error("a shutdown step failed: {}", e.what());
        }
    }
    accept_gate_.cancel();
    close_idle();
    cancel_tasks();
    maybe_drained();
}

}  // namespace flamecpp::detail
