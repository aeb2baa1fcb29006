#pragma once

/// @file
/// Running an app: the server, its options, and the log level.

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <string>

namespace flamecpp {

class App;

/// Log verbosity, as the `--log-level` flag spells it.
enum class LogLevel : std::uint8_t { trace, debug, info, warn, error, off };

/// How a server listens and runs. `App::run(argc, argv)` fills it from the command line.
struct ServerOptions {
    std::string host = "127.0.0.1";
    std::uint16_t port = 8000;  ///< 0 picks a free port.
    unsigned threads = 0;       ///< 0 means one per CPU the process may use (its affinity).
    LogLevel log_level = LogLevel::info;
    bool handle_signals = true;   ///< Stop gracefully on SIGINT and SIGTERM.
    bool print_listening = true;  ///< Print "listening on http://ADDR:PORT" to stdout.
    /// Called on the server's thread with each exception a handler lets escape (HTTPException
    /// aside, which is an answer), after it is logged and before its 500, or its WebSocket's
    /// 1011 close, goes out. flamecpp::testing uses it to raise server errors in the test.
    /// Exceptions it throws are ignored.
    std::function<void(std::exception_ptr)> on_handler_error;
    /// A thread whose event loop has not run for this long is reported with a warning: a
    /// handler is blocking it, and every connection of that thread waits (move the blocking
    /// call into `co_await run_blocking(...)`). Zero turns the watchdog off.
    std::chrono::milliseconds stall_warning{1000};
};

/// A running server for an app: listening when the constructor returns, one thread per
/// io_context. The app must outlive it and must not change while it runs.
class Server {
public:
    /// Runs the app's startup hooks, then binds and starts serving; throws
    /// `std::runtime_error` saying what failed (the address is in use, a startup hook threw).
    Server(App& app, ServerOptions options);
    /// Stops and joins, if still running.
    ~Server();  // NOLINT(bugprone-exception-escape): see server.cpp
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    /// The bound port (the real one when 0 was asked for).
    std::uint16_t port() const noexcept;
    /// Starts a graceful stop: no new connections, in-flight requests finish within the grace
    /// period. Safe to call from any thread, more than once.
    void stop() noexcept;  // NOLINT(bugprone-exception-escape): see server.cpp
    /// Blocks until every server thread has finished, then runs the app's shutdown hooks.
    void wait();
    /// After wait(): true when a shutdown hook threw or overran (each is logged).
    bool shutdown_failed() const noexcept;

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace flamecpp
