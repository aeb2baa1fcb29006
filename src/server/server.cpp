#include <chrono>
#include <condition_variable>
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
    std::thread watchdog;
    std::mutex watchdog_mutex;  // only the watchdog and wait() take it, never a worker
    std::condition_variable watchdog_wake;
    bool watchdog_stop = false;
    std::uint16_t port = 0;
    bool joined = false;

    Impl(App::Impl& a, ServerOptions o) : app(a), options(std::move(o)) {}

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

    /// Warns once per stall when a worker's loop has not ticked for options.stall_warning,
    /// and once more when it runs again.
    void watch() {
        std::vector<bool> stalled(workers.size(), false);
        const auto limit = std::chrono::duration_cast<detail::Clock::duration>(
            options.stall_warning + std::chrono::milliseconds(250));  // the beat's period
        std::unique_lock lock(watchdog_mutex);
        while (!watchdog_wake.wait_for(lock, std::chrono::milliseconds(100),
                                       [this] { return watchdog_stop; })) {
            const auto now = detail::Clock::now().time_since_epoch();
            for (std::size_t i = 0; i < workers.size(); ++i) {
                auto& w = *workers[i];
                if (w.finished.load(std::memory_order_relaxed)) {
                    continue;
                }
                auto age =
                    now - detail::Clock::duration(w.heartbeat.load(std::memory_order_relaxed));
                auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(age).count();
                if (age > limit && !stalled[i]) {
                    stalled[i] = true;
                    detail::logger().warn(
                        "thread {} has not run its event loop for {} ms: a handler is blocking "
                        "it, and its other connections wait. Move blocking calls into "
                        "co_await flamecpp::run_blocking(...)",
                        i, ms);
                } else if (age <= limit && stalled[i]) {
                    stalled[i] = false;
                    detail::logger().warn("thread {} runs its event loop again", i);
                }
            }
        }
    }

    void stop_all() noexcept {
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
    // Components can only be checked against the app once it is complete: before listening.
    detail::validate_components(impl_->app.router.routes(), impl_->app.components);
    unsigned threads = opts.threads != 0 ? opts.threads : detail::usable_cpus();
    tcp::endpoint endpoint = impl_->resolve();
    auto cannot_listen = [&endpoint](const boost::system::error_code& ec) {
        return std::runtime_error("cannot listen on " + endpoint.address().to_string() + ":" +
                                  std::to_string(endpoint.port()) + ": " + ec.message());
    };
    {
        // The workers bind with SO_REUSEPORT, which would let a second server share a port
        // silently. A probe bound without it fails if anyone holds the port, and picks the
        // real port when 0 is asked for.
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
        // An even share of the limit, at least one connection per thread.
        worker->max_connections =
            std::max<std::size_t>(1, (impl_->app.limits.max_connections + threads - 1) / threads);
        try {
            worker->listen(endpoint);
        } catch (const boost::system::system_error& e) {
            throw cannot_listen(e.code());
        }
        impl_->workers.push_back(std::move(worker));
    }
    impl_->port = endpoint.port();

    if (opts.handle_signals) {
        auto& io = impl_->workers.front()->io;
        impl_->signals = std::make_unique<asio::signal_set>(io, SIGINT, SIGTERM);
        Impl* impl = impl_.get();
        impl_->signals->async_wait([impl](const boost::system::error_code& ec, int signal) {
            if (!ec) {
                detail::logger().info("received signal {}, shutting down", signal);
                impl->stop_all();
            }
        });
    }
    for (auto& w : impl_->workers) {
        w->start();
    }
    for (auto& w : impl_->workers) {
        detail::Worker* worker = w.get();
        impl_->threads.emplace_back([worker] {
            try {
                worker->io.run();
            } catch (const std::exception& e) {
                detail::logger().critical("worker thread stopped: {}", e.what());
            }
            worker->finished = true;
        });
    }
    if (opts.stall_warning.count() > 0) {
        Impl* impl = impl_.get();
        impl_->watchdog = std::thread([impl] { impl->watch(); });
    }
    std::string host = endpoint.address().is_v6() ? "[" + endpoint.address().to_string() + "]"
                                                  : endpoint.address().to_string();
    detail::logger().info("serving {} routes on {}:{} with {} thread(s)",
                          impl_->app.router.routes().size(), host, impl_->port, threads);
    if (opts.print_listening) {
        std::printf("listening on http://%s:%u\n", host.c_str(), unsigned{impl_->port});
        std::fflush(stdout);
    }
}

Server::~Server() {
    if (!impl_->joined) {
        stop();
        wait();
    }
}

std::uint16_t Server::port() const noexcept { return impl_->port; }

void Server::stop() noexcept {
    if (impl_->signals) {
        auto* signals = impl_->signals.get();
        asio::post(impl_->workers.front()->io, [signals] {
            boost::system::error_code ec;
            signals->cancel(ec);
        });
    }
    impl_->stop_all();
}

void Server::wait() {
    for (auto& t : impl_->threads) {
        if (t.joinable()) {
            t.join();
        }
    }
    if (impl_->watchdog.joinable()) {
        {
            std::lock_guard lock(impl_->watchdog_mutex);
            impl_->watchdog_stop = true;
        }
        impl_->watchdog_wake.notify_one();
        impl_->watchdog.join();
    }
    impl_->joined = true;
    detail::logger().info("stopped");
}

}  // namespace flamecpp
