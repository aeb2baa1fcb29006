#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/async_result.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include <flamecpp/app.hpp>

#include "http/writer.hpp"
#include "server/transport.hpp"

namespace flamecpp::detail {

using Clock = std::chrono::steady_clock;

/// A connection that answers the reaper's and the shutdown's visits itself (a WebSocket, which
/// closes with a handshake). Without one the socket's operations are cancelled (HTTP). Called
/// on the worker's thread at most once per sweep (250 ms), so the virtual call is free.
class ConnectionOwner {
public:
    /// The deadline passed: idle, or a close handshake the peer does not finish.
    virtual void deadline_passed() = 0;
    /// The server is shutting down.
    virtual void shutting_down() = 0;
    /// The server is torn down with the connection still open (its loop stopped after the
    /// grace period): let go of the socket and the worker; handles kept by the app then see a
    /// closed connection.
    virtual void abandoned() = 0;

protected:
    ConnectionOwner() = default;
    ConnectionOwner(const ConnectionOwner&) = default;
    ConnectionOwner& operator=(const ConnectionOwner&) = default;
    ~ConnectionOwner() = default;
};

/// A connection's entry in its worker's list: how the reaper enforces deadlines and how a
/// shutdown finds open connections. Lives in the session's coroutine frame; only the
/// worker's thread touches it.
struct Connection {
    enum class Phase : unsigned char {
        idle,     ///< waiting for the first byte of a request
        reading,  ///< part of a request has arrived
        busy,     ///< a handler runs or a response is being written
        closing,  ///< lingering close after an error answer
    };

    Transport* transport = nullptr;
    Clock::time_point deadline = Clock::time_point::max();
    Phase phase = Phase::idle;
    bool timed_out = false;
    /// Accepted and no request handled yet: the shutdown lets it send one (a client that
    /// connected before the listener closed is answered, not cut off), within fresh_grace.
    bool fresh = true;
    /// How long a fresh connection has, once the shutdown began, for its request to arrive (a
    /// client that connects and says nothing does not hold the drain).
    static constexpr Clock::duration fresh_grace = std::chrono::seconds(1);
    /// Not zero: the reaper's next sweep sets `deadline` to its time plus this. The request
    /// and message paths restart their clock this way instead of reading the clock: the
    /// deadline starts up to one sweep (250 ms) late, and the sweep is that coarse anyway.
    Clock::duration restart_after{0};

    /// A deadline from now, for the paths that are not per request.
    void set_deadline(Clock::time_point when) noexcept {
        deadline = when;
        restart_after = Clock::duration::zero();
    }
    /// The deadline `timeout` after the reaper's next sweep; until then the old one holds.
    void restart_at_next_sweep(Clock::duration timeout) noexcept { restart_after = timeout; }
    /// Set while the connection is a WebSocket (see ConnectionOwner).
    ConnectionOwner* owner = nullptr;
    Connection* prev = nullptr;
    Connection* next = nullptr;
};

/// The io_context of a worker. Its pending operations can be destroyed (shut_down()) before
/// the object goes: the server does that for every worker first, so that a handler of one
/// worker's loop that belongs to another (a coroutine awaiting a cross-thread send) is
/// destroyed while every loop still exists.
class EventLoop : public boost::asio::io_context {
public:
    using boost::asio::io_context::io_context;
    void shut_down() { shutdown(); }
};

/// How other threads hand a worker work. Closed when the server is torn down: from then on
/// posts are refused instead of reaching a destroyed io_context (a WebSocket handle kept by
/// the app past the server's life). Only cross-thread paths take its lock.
class Mailbox {
public:
    explicit Mailbox(boost::asio::io_context& io) noexcept : io_(&io) {}

    /// Posts `f` (moved from only when posted); false when the worker is gone.
    template <class F>
    bool post(F& f) {
        std::lock_guard lock(mutex_);
        if (io_ == nullptr) {
            return false;
        }
        boost::asio::post(*io_, std::move(f));
        return true;
    }

    void close() noexcept {
        std::lock_guard lock(mutex_);
        io_ = nullptr;
    }

private:
    std::mutex mutex_;
    boost::asio::io_context* io_;
};

/// One thread's server: its io_context, its SO_REUSEPORT acceptor, its connections.
/// Nothing here is shared between threads, so nothing is locked.
class Worker {
public:
    Worker(App::Impl& app, const ServerOptions& options);
    Worker(const Worker&) = delete;
    Worker& operator=(const Worker&) = delete;
    ~Worker();

    /// Binds and listens on `endpoint` (SO_REUSEPORT, so every worker binds the same port).
    void listen(const boost::asio::ip::tcp::endpoint& endpoint);
    /// Starts the accept loop and the deadline reaper; call before `io.run()`.
    void start();
    /// Stops accepting, closes idle connections, lets busy ones finish within the grace
    /// period, cancels the tasks it owns. Runs on this worker's thread.
    void begin_shutdown();
    /// Runs `hook` on this thread when the shutdown begins (the broadcast hub ends its stream
    /// subscribers there). Call on this thread.
    void at_shutdown(std::function<void()> hook) { shutdown_hooks_.push_back(std::move(hook)); }
    /// A session that was counted as starting but failed before it attached.
    void session_not_started() noexcept;
    /// After the loop has stopped for good: lets go of the connections still open (a handler
    /// outlived the grace period) and refuses further posts. Then shut_down() on every worker.
    void abandon() noexcept;

    /// Runs `task` on this worker's loop as a task the server owns (flamecpp::spawn): tracked,
    /// cancelled when shutdown begins (unless `finish_on_shutdown`: a response's background
    /// task, which the shutdown lets finish), awaited by it, its exception logged. This thread
    /// only.
    void spawn(boost::asio::awaitable<void> task, bool finish_on_shutdown = false);

    /// The worker whose loop runs on the calling thread, or null.
    static Worker* current() noexcept;
    /// Marks the calling thread as this worker's (the server's thread function).
    void bind_to_this_thread() noexcept;
    /// Undoes bind_to_this_thread (the startup hooks run the first loop on the caller's thread).
    static void unbind_this_thread() noexcept;

    /// Hands an exception a handler let escape to ServerOptions::on_handler_error, if set.
    void handler_failed(std::exception_ptr error) const noexcept {
        if (options.on_handler_error) {
            try {
                options.on_handler_error(std::move(error));
            } catch (...) {
            }
        }
    }

    void attach(Connection& c) noexcept;
    void detach(Connection& c) noexcept;

    /// This thread's share of Limits::max_connections (set before start()).
    std::size_t max_connections = static_cast<std::size_t>(-1);

private:
    /// Set by abandon() and ~Worker. A session still suspended when the loop stopped (a handler
    /// that outlived the shutdown grace period) is destroyed with `io`, after the members
    /// declared below it: from then on give_back() and detach() leave them alone. Declared
    /// before `io`, so it outlives it.
    bool torn_down_ = false;

    /// The tasks spawn() started and that have not finished. Declared before `io`: a task's
    /// pending operation holds its cancellation slot until `io` destroys it.
    struct OwnedTask {
        boost::asio::cancellation_signal cancel;
        bool finish_on_shutdown = false;
    };
    std::list<OwnedTask> tasks_;

public:
    /// Only this worker's thread touches its sockets and timers; other threads reach it through
    /// post() (shutdown, run_blocking's completions, cross-thread WebSocket sends), which
    /// still locks. So the reactor's per-descriptor locks go: callgrind counted three
    /// lock/unlock pairs per request for them.
    EventLoop io{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO};
    /// How other threads post to `io` (see Mailbox).
    std::shared_ptr<Mailbox> mailbox = std::make_shared<Mailbox>(io);

    /// Suspends the calling coroutine until the work already queued on this thread has run.
    /// A session that has just written its answer itself waits here before reading again:
    /// reading at once nearly always finds the socket empty (Asio tries the read first, one
    /// EAGAIN recv(2) per request), while after the queued work the peer has usually sent its
    /// next request. Cheaper than co_await asio::post(): no type-erased executor work per
    /// call, and one posted drain per batch of sessions. An Asio operation (`deferred`), so
    /// awaiting it adds no coroutine frame. It holds only `this`: trivial, so safe as a
    /// temporary in the co_await operand (GCC 12 mishandles non-trivial ones).
    auto after_queued_work() {
        return boost::asio::async_initiate<const boost::asio::deferred_t&, void()>(
            [this](Resume resume) { park(std::move(resume)); }, boost::asio::deferred);
    }

    boost::asio::ip::tcp::acceptor acceptor{io};
    App::Impl& app;
    const ServerOptions& options;
    /// Set when the server speaks TLS: what new connections are accepted with. Replaced on
    /// this thread by a reload; connections keep the one they started with.
    std::shared_ptr<const TlsContext> tls;
    DateCache date;
    HeadCache head_cache;  ///< the last response head's repeating start
    bool draining = false;

    /// Read buffers of connections that went idle, for the next connection that has bytes to
    /// read: an idle keep-alive connection holds no read buffer. At most `max_spare_buffers`.
    std::vector<boost::beast::flat_buffer> spare_buffers;
    static constexpr std::size_t max_spare_buffers = 256;
    boost::beast::flat_buffer take_buffer() {
        if (spare_buffers.empty()) {
            return {};
        }
        boost::beast::flat_buffer b = std::move(spare_buffers.back());
        spare_buffers.pop_back();
        return b;
    }
    void give_back(boost::beast::flat_buffer& b) {
        if (!torn_down_ && b.capacity() != 0 && spare_buffers.size() < max_spare_buffers) {
            b.clear();
            spare_buffers.push_back(std::move(b));
        }
        b = boost::beast::flat_buffer();
    }
    /// Response buffers of connections that went idle, as for the read buffers: an idle
    /// keep-alive connection holds no response buffer either.
    std::vector<std::string> spare_out;
    std::string take_out() {
        if (spare_out.empty()) {
            return {};
        }
        std::string s = std::move(spare_out.back());
        spare_out.pop_back();
        return s;
    }
    /// Takes an empty response buffer's storage (one with bytes still to send stays).
    void give_back(std::string& s) {
        if (!s.empty()) {
            return;
        }
        if (!torn_down_ && s.capacity() > sizeof(std::string) &&
            spare_out.size() < max_spare_buffers) {
            spare_out.push_back(std::move(s));
        }
        s = std::string();
    }
    /// The server's monitor thread posts a probe to the loop and measures how long it waits
    /// to run: a loop that a handler blocks leaves it waiting, an idle one runs it at once.
    /// The steady clock (ns) when the pending probe was posted; 0 when none is pending.
    std::atomic<std::int64_t> probe_posted{0};
    /// Set by the thread once io.run() has returned.
    std::atomic<bool> finished{false};

private:
    /// What resumes a coroutine suspended in after_queued_work().
    /// (Asio's handler for an operation an awaitable coroutine awaits directly.)
    using Resume =
        boost::asio::detail::awaitable_async_op_handler<void(), boost::asio::any_io_executor>;
    void park(Resume resume);
    void resume_parked() noexcept;
    /// Declared after `io`, so destroyed before it: a parked coroutine that never resumed
    /// is handed to `io` for destruction, as a pending operation's would be.
    std::vector<Resume> parked_;
    std::vector<Resume> resuming_;
    bool resume_posted_ = false;

    boost::asio::awaitable<void> accept_loop();
    boost::asio::awaitable<void> reap_loop();
    void close_idle() noexcept;
    /// Starts an HTTP session on an accepted socket.
    void start_session(boost::asio::ip::tcp::socket socket);
    /// Takes the connections the kernel has queued for this listener, before it closes
    /// (closing would reset them).
    void take_queued_connections() noexcept;
    void cancel_tasks() noexcept;
    /// Shutdown may end once no connection and no owned task is left: wakes the reaper.
    void maybe_drained() noexcept;

    boost::asio::steady_timer reaper_{io};
    boost::asio::steady_timer accept_gate_{io};  ///< the accept loop waits here at the limit
    Clock::time_point grace_end_ = Clock::time_point::max();
    Connection* head_ = nullptr;
    std::size_t count_ = 0;
    std::size_t starting_ = 0;  ///< accepted, session not started yet
    std::vector<std::function<void()>> shutdown_hooks_;
};

/// Runs one HTTP connection to its end (defined in http_session.cpp, the Beast TU).
boost::asio::awaitable<void> run_http_session(Worker& worker, boost::asio::ip::tcp::socket socket);

}  // namespace flamecpp::detail
