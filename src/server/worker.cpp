#include "server/worker.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/socket_base.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "app/app_impl.hpp"
#include "log.hpp"

namespace flamecpp::detail {
namespace asio = boost::asio;
using asio::ip::tcp;

namespace {
constexpr auto reap_interval = std::chrono::milliseconds(250);
using reuse_port = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;
}  // namespace

Worker::Worker(App::Impl& app_impl, const ServerOptions& opts) : app(app_impl), options(opts) {}

void Worker::listen(const tcp::endpoint& endpoint) {
    acceptor.open(endpoint.protocol());
    acceptor.set_option(asio::socket_base::reuse_address(true));
    acceptor.set_option(reuse_port(true));
    acceptor.bind(endpoint);
    acceptor.listen(asio::socket_base::max_listen_connections);
}

void Worker::start() {
    beat();
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

Worker::~Worker() { torn_down_ = true; }

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
    if (draining && count_ == 0) {
        reaper_.cancel();  // the last connection is gone: let the reaper end now, not at its tick
    }
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
        if (ec == asio::error::operation_aborted || !acceptor.is_open()) {
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
        if (draining) {
            break;
        }
        boost::system::error_code opt_ec;
        socket.set_option(tcp::no_delay(true), opt_ec);
        // The sessions try each write at once and only wait for the socket when the kernel
        // would block (see HttpSession::flush_now). Asio would set O_NONBLOCK at the first
        // operation anyway; this makes its synchronous calls say would_block, not poll.
        socket.non_blocking(true, opt_ec);
        ++starting_;  // counted from now on: the session attaches when it starts
        asio::co_spawn(io, run_http_session(*this, std::move(socket)), asio::detached);
    }
}

asio::awaitable<void> Worker::reap_loop() {
    for (;;) {
        reaper_.expires_after(reap_interval);
        auto [ec] = co_await reaper_.async_wait(asio::as_tuple(asio::use_awaitable));
        (void)ec;
        beat();
        auto now = Clock::now();
        bool grace_over = now >= grace_end_;
        for (Connection* c = head_; c != nullptr; c = c->next) {
            if (c->restart_after != Clock::duration::zero()) {
                c->set_deadline(now + c->restart_after);
            }
            if (grace_over || now >= c->deadline) {
                c->timed_out = true;
                c->set_deadline(Clock::time_point::max());
                if (c->on_expire != nullptr && !grace_over) {
                    c->on_expire(*c);
                } else {
                    boost::system::error_code cancel_ec;
                    c->socket->cancel(cancel_ec);  // the session sees operation_aborted
                }
            }
        }
        if (draining && count_ == 0) {
            co_return;
        }
        if (grace_over && now >= grace_end_ + std::chrono::seconds(1)) {
            // A handler still runs after the grace period and one more second: stop the loop
            // so the process can exit; its coroutine frame is destroyed with the io_context.
            logger().warn("{} connection(s) still busy after the shutdown grace period", count_);
            io.stop();
            co_return;
        }
    }
}

void Worker::close_idle() noexcept {
    for (Connection* c = head_; c != nullptr; c = c->next) {
        if (c->on_shutdown != nullptr) {
            c->on_shutdown(*c);  // WebSocket: close 1001
        } else if (c->phase == Connection::Phase::idle) {
            boost::system::error_code ec;
            c->socket->cancel(ec);
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
    draining = true;
    grace_end_ = Clock::now() + app.limits.shutdown_grace;
    boost::system::error_code ec;
    acceptor.close(ec);
    accept_gate_.cancel();
    close_idle();
    if (count_ == 0) {
        reaper_.cancel();
    }
}

}  // namespace flamecpp::detail
