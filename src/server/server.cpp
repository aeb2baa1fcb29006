#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>

#include <flamecpp/app.hpp>

#include "app/app_impl.hpp"
#include "app/components.hpp"
#include "cpus.hpp"
#include "log.hpp"
#include "server/lifespan.hpp"
#include "server/tls.hpp"
#include "server/worker.hpp"

namespace flamecpp {
namespace asio = boost::asio;
using asio::ip::tcp;

struct Server::Impl {
    App::Impl& app;
    ServerOptions options;
    std::vector<std::unique_ptr<detail::Worker>> workers;
    std::vector<std::thread> threads;
    std::unique_ptr<asio::signal_set> signals;
    std::unique_ptr<asio::signal_set> reload_signal;  ///< SIGHUP, with TLS
    /// The TLS context new connections get (null without TLS). reload_tls() replaces it; the
    /// workers get their copy by a post, so their threads never share a pointer being changed.
    std::mutex tls_mutex;
    std::shared_ptr<const detail::TlsContext> tls;
    /// Set when the shutdown begins: a SIGHUP already queued then neither reloads nor waits
    /// again (its wait would keep the first loop from ending).
    std::atomic<bool> stopping{false};
    /// The monitor thread: spots loops that a handler blocks, and stops every loop that still
    /// runs a second after the shutdown grace period.
    std::thread monitor;
    std::mutex monitor_mutex;  // only the monitor, stop_all() and wait() take it, no worker
    std::condition_variable monitor_wake;
    bool monitor_stop = false;
    detail::Clock::time_point hard_stop_at = detail::Clock::time_point::max();
    std::uint16_t port = 0;
    bool joined = false;

    /// Set when the first loop was stopped with work still on it: the shutdown hooks then run
    /// on a loop of their own rather than among what it abandoned.
    std::atomic<bool> first_loop_cut{false};
    bool shutdown_failed = false;

    Impl(App::Impl& a, ServerOptions o) : app(a), options(std::move(o)) {}

    std::chrono::milliseconds options_grace() const {
        return std::chrono::duration_cast<std::chrono::milliseconds>(app.limits.shutdown_grace);
    }

    tcp::endpoint resolve() {
        boost::system::error_code ec;
        auto address = asio::ip::make_address(options.host, ec);
        if (!ec) {
            return {address, options.port};
        }
        asio::io_context io;
        tcp::resolver resolver(io);
        auto results = resolver.resolve(options.host, std::to_string(options.port), ec);
        if (ec || results.empty()) {
            throw std::runtime_error("cannot resolve --host '" + options.host +
                                     "': " + (ec ? ec.message() : "no address"));
        }
        return results.begin()->endpoint();
    }

    void watch() {
        std::vector<bool> stalled(workers.size(), false);
        bool hard_stopped = false;
        std::unique_lock lock(monitor_mutex);
        while (!monitor_wake.wait_for(lock, std::chrono::milliseconds(100),
                                      [this] { return monitor_stop; })) {
            const auto now = detail::Clock::now();
            if (!hard_stopped && now >= hard_stop_at) {
                hard_stopped = true;
                stop_loops();
            }
            if (!hard_stopped && options.stall_warning.count() > 0) {
                check_stalls(now, stalled);
            }
        }
    }

    /// Each loop gets a probe posted to it; a probe that waits longer than
    /// options.stall_warning means a handler blocks the loop (warned once per stall, and once
    /// more when it runs again). A loop with nothing to do runs its probe at once, however long
    /// it has been idle.
    void check_stalls(detail::Clock::time_point now, std::vector<bool>& stalled) {
        const std::int64_t now_ns = now.time_since_epoch().count();
        for (std::size_t i = 0; i < workers.size(); ++i) {
            detail::Worker& w = *workers[i];
            if (w.finished.load(std::memory_order_relaxed)) {
                continue;
            }
            const std::int64_t posted = w.probe_posted.load(std::memory_order_relaxed);
            if (posted == 0) {
                if (stalled[i]) {
                    stalled[i] = false;
                    detail::logger().warn("thread {} runs its event loop again", i);
                }
                w.probe_posted.store(now_ns, std::memory_order_relaxed);
                asio::post(w.io, [&w] { w.probe_posted.store(0, std::memory_order_relaxed); });
                continue;
            }
            const auto age = detail::Clock::duration(now_ns - posted);
            if (age > options.stall_warning && !stalled[i]) {
                stalled[i] = true;
                detail::logger().warn(
                    "thread {} has not run its event loop for {} ms: a handler is blocking "
                    "it, and its other connections wait. Move blocking calls into "
                    "co_await flamecpp::run_blocking(...)",
                    i, std::chrono::duration_cast<std::chrono::milliseconds>(age).count());
            }
        }
    }

    /// A second after the grace period: whatever still waits on a loop (a handler that
    /// ignores the shutdown, a coroutine of the app waiting for something that never comes)
    /// must not keep the process alive. The loops stop, and wait() destroys what they held.
    void stop_loops() noexcept {
        for (std::size_t i = 0; i < workers.size(); ++i) {
            if (!workers[i]->finished.load()) {
                detail::logger().warn(
                    "thread {} still has work a second after the shutdown grace period: "
                    "stopping its event loop; the coroutines still waiting there are destroyed",
                    i);
                workers[i]->io.stop();
                if (i == 0) {
                    first_loop_cut = true;
                }
            }
        }
    }

    void reload_tls() {
        std::lock_guard lock(tls_mutex);  // one reload at a time; no worker takes it
        if (!tls) {
            throw std::logic_error("reload_tls: this server does not speak TLS");
        }
        auto fresh = detail::TlsContext::load(options.tls, tls.get());
        tls = fresh;
        for (auto& w : workers) {
            detail::Worker* worker = w.get();
            asio::post(worker->io, [worker, fresh] { worker->tls = fresh; });
        }
        detail::logger().info("TLS certificates reloaded from {}",
                              options.tls.certificate.cert_file);
    }

    void wait_for_reload() {
        reload_signal->async_wait([this](const boost::system::error_code& ec, int /*signal*/) {
            if (ec || stopping.load()) {
                return;
            }
            try {
                reload_tls();
            } catch (const std::exception& e) {
                detail::logger().error("SIGHUP: TLS reload failed, the old certificates stay: {}",
                                       e.what());
            }
            wait_for_reload();
        });
    }

    void stop_all() noexcept {  // NOLINT(bugprone-exception-escape): as Server::stop
        stopping = true;
        {
            std::lock_guard lock(monitor_mutex);
            if (hard_stop_at == detail::Clock::time_point::max()) {
                hard_stop_at =
                    detail::Clock::now() + app.limits.shutdown_grace + std::chrono::seconds(1);
            }
        }
        for (auto& w : workers) {
            detail::Worker* worker = w.get();
            asio::post(worker->io, [worker] { worker->begin_shutdown(); });
        }
    }
};

Server::Server(App& app, ServerOptions options)
    : impl_(std::make_unique<Impl>(app.impl(), std::move(options))) {
    auto& opts = impl_->options;
    detail::set_log_level(opts.log_level);
    // sendfile(2) has no MSG_NOSIGNAL: a client gone mid-file would kill the process with
    // SIGPIPE. Ignored unless the app installed a handler of its own (as nginx does).
    struct sigaction pipe_action {};
    if (::sigaction(SIGPIPE, nullptr, &pipe_action) == 0 && pipe_action.sa_handler == SIG_DFL) {
        std::signal(SIGPIPE, SIG_IGN);
    }
    unsigned threads = opts.threads != 0 ? opts.threads : detail::usable_cpus();
    if (opts.tls.certificate.cert_file.empty() != opts.tls.certificate.key_file.empty()) {
        throw ConfigurationError(
            "TLS needs both a certificate file and a key file; got only " +
            std::string(opts.tls.certificate.cert_file.empty()
                            ? "the key '" + opts.tls.certificate.key_file
                            : "the certificate '" + opts.tls.certificate.cert_file) +
            "'");
    }
    if (opts.tls.enabled()) {
        impl_->tls = detail::TlsContext::load(opts.tls);  // throws naming the file
    }
    tcp::endpoint endpoint = impl_->resolve();
    auto cannot_listen = [&endpoint](const boost::system::error_code& ec) {
        return std::runtime_error("cannot listen on " + endpoint.address().to_string() + ":" +
                                  std::to_string(endpoint.port()) + ": " + ec.message());
    };
    if (!opts.reuse_port || endpoint.port() == 0) {
        // The workers bind with SO_REUSEPORT, which would let a second server share a port
        // silently. A probe bound without it fails if anyone holds the port, and picks the
        // real port when 0 is asked for. With reuse_port sharing is the point: the workers'
        // own binds fail if the port's holder did not set SO_REUSEPORT.
        asio::io_context io;
        tcp::acceptor probe(io);
        boost::system::error_code ec;
        probe.open(endpoint.protocol(), ec);
        if (!ec)
            probe.set_option(asio::socket_base::reuse_address(true), ec);
        if (!ec)
            probe.bind(endpoint, ec);
        if (ec) {
            throw cannot_listen(ec);
        }
        endpoint.port(probe.local_endpoint().port());
    }
    for (unsigned i = 0; i < threads; ++i) {
        auto worker = std::make_unique<detail::Worker>(impl_->app, impl_->options);
        worker->tls = impl_->tls;
        // An even share of the limit, at least one connection per thread.
        worker->max_connections =
            std::max<std::size_t>(1, (impl_->app.limits.max_connections + threads - 1) / threads);
        impl_->workers.push_back(std::move(worker));
    }
    // The lifespan's start: before anything listens, on the first loop (what a hook spawns
    // runs there once the loop's thread starts). Hooks may register components.
    App& app_ref = *impl_->app.self;
    {
        detail::Worker& first = *impl_->workers.front();
        first.bind_to_this_thread();
        try {
            detail::run_startup_hooks(app_ref, first.io);
            try {
                // After the hooks, which may register components.
                for (detail::ComponentSlot& slot : impl_->app.components) {
                    if (slot.bound != nullptr) {
                        slot.bound->server_started();
                    }
                }
            } catch (...) {
                detail::run_shutdown_hooks(app_ref, first.io, impl_->options_grace());
                throw;
            }
        } catch (...) {
            detail::Worker::unbind_this_thread();
            throw;
        }
        detail::Worker::unbind_this_thread();
    }
    try {
        // Components can only be checked against the app once it is complete.
        detail::validate_components(impl_->app.router.routes(), impl_->app.components);
        detail::validate_middleware(impl_->app.middleware, impl_->app.components);
        for (auto& mount : impl_->app.mounts) {
            detail::validate_middleware(mount->middleware, impl_->app.components);
            mount->layers = detail::mount_layers(*mount);
            mount->exception_handlers.validate(impl_->app.components);
            mount->handler_chain =
                detail::mount_handler_chain(*mount, impl_->app.exception_handlers);
        }
        impl_->app.exception_handlers.validate(impl_->app.components);
        impl_->app.websocket_exception_handlers.validate(impl_->app.components);
        for (auto& worker : impl_->workers) {
            try {
                worker->listen(endpoint);
            } catch (const boost::system::system_error& e) {
                throw cannot_listen(e.code());
            }
        }
    } catch (...) {
        // The start failed after the startup hooks: what they opened is closed again.
        detail::run_shutdown_hooks(app_ref, impl_->workers.front()->io, impl_->options_grace());
        throw;
    }
    impl_->port = endpoint.port();

    if (opts.handle_signals) {
        auto& io = impl_->workers.front()->io;
        impl_->signals = std::make_unique<asio::signal_set>(io, SIGINT, SIGTERM);
        Impl* impl = impl_.get();
        impl_->signals->async_wait([impl](const boost::system::error_code& ec, int signal) {
            if (!ec) {
                detail::logger().info("received signal {}, shutting down", signal);
                if (impl->reload_signal) {
                    boost::system::error_code ignored;
                    impl->reload_signal->cancel(ignored);  // else its wait keeps the loop
                }
                impl->stop_all();
            }
        });
        if (impl_->tls) {
            impl_->reload_signal = std::make_unique<asio::signal_set>(io, SIGHUP);
            impl_->wait_for_reload();
        }
    }
    for (auto& w : impl_->workers) {
        w->start();
    }
    for (auto& w : impl_->workers) {
        detail::Worker* worker = w.get();
        impl_->threads.emplace_back([worker] {
            worker->bind_to_this_thread();
            try {
                worker->io.run();
            } catch (const std::exception& e) {
                detail::logger().critical("worker thread stopped: {}", e.what());
            }
            worker->finished = true;
        });
    }
    {
        Impl* impl = impl_.get();
        impl_->monitor = std::thread([impl] { impl->watch(); });
    }
    std::string host = endpoint.address().is_v6() ? "[" + endpoint.address().to_string() + "]"
                                                  : endpoint.address().to_string();
    detail::logger().info("serving {} routes on {}:{} with {} thread(s)",
                          impl_->app.router.routes().size(), host, impl_->port, threads);
    if (opts.print_listening) {
        std::printf("listening on %s://%s:%u\n", impl_->tls ? "https" : "http", host.c_str(),
                    unsigned{impl_->port});
        std::fflush(stdout);
    }
}

// The analysis also follows the loops' and sessions' destructors, which throw nothing.
Server::~Server() {  // NOLINT(bugprone-exception-escape)
    if (!impl_->joined) {
        stop();
        try {
            wait();
        } catch (...) {  // a thread that cannot be joined: nothing more to do in a destructor
        }
    }
}

std::uint16_t Server::port() const noexcept { return impl_->port; }

bool Server::shutdown_failed() const noexcept { return impl_->shutdown_failed; }

void Server::reload_tls() { impl_->reload_tls(); }

// noexcept: posting to the loops only fails when memory runs out, and then ending the process
// is the answer.
void Server::stop() noexcept {  // NOLINT(bugprone-exception-escape)
    if (impl_->joined) {
        return;
    }
    if (impl_->signals) {
        auto* signals = impl_->signals.get();
        auto* reload = impl_->reload_signal.get();
        asio::post(impl_->workers.front()->io, [signals, reload] {
            boost::system::error_code ec;
            signals->cancel(ec);
            if (reload != nullptr) {
                reload->cancel(ec);
            }
        });
    }
    impl_->stop_all();
}

void Server::wait() {
    if (impl_->joined) {
        return;
    }
    for (auto& t : impl_->threads) {
        if (t.joinable()) {
            t.join();
        }
    }
    if (impl_->monitor.joinable()) {
        {
            std::lock_guard lock(impl_->monitor_mutex);
            impl_->monitor_stop = true;
        }
        impl_->monitor_wake.notify_one();
        impl_->monitor.join();
    }
    // Every loop has stopped. What they still hold (a loop stopped after the grace period)
    // goes now, in two passes so that nothing of one loop outlives another it refers to:
    // first the connections let go of their sockets and the mailboxes close, then every
    // loop's pending operations are destroyed, while all loops still exist.
    // The lifespan's end: the connections have drained (or been cut off).
    {
        asio::io_context own;
        asio::io_context& io = impl_->first_loop_cut ? own : impl_->workers.front()->io;
        impl_->shutdown_failed =
            !detail::run_shutdown_hooks(*impl_->app.self, io, impl_->options_grace());
    }
    for (auto& w : impl_->workers) {
        w->abandon();
    }
    for (auto& w : impl_->workers) {
        w->io.shut_down();
    }
    impl_->joined = true;
    detail::logger().info("stopped");
}

}  // namespace flamecpp
