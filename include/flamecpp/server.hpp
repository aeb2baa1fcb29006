#pragma once

/// @file
/// Running an app: the server, its options, and the log level.

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace flamecpp {

class App;

/// Log verbosity, as the `--log-level` flag spells it.
enum class LogLevel : std::uint8_t {
    trace,  ///< everything (the framework itself writes nothing below debug)
    debug,  ///< debug records and up: per-connection details such as bad requests, timeouts,
            ///< WebSocket closes (most of the framework's only in Debug builds)
    info,   ///< info records and up: start, stop, signals, certificate reloads (the default)
    warn,   ///< warnings and errors: a stalled event loop, a failed accept, ...
    error,  ///< errors only: handler exceptions, failed connections
    off     ///< nothing
};

/// A server option that cannot be used as given (a TLS file that does not load), thrown by
/// the Server's constructor before anything starts; `App::run` prints it and exits 2, as for
/// a bad flag.
class ConfigurationError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// A certificate and its private key, as PEM files. The certificate file may hold the chain:
/// the server's certificate first, then the intermediates.
struct TlsCertificate {
    std::string cert_file;  ///< the PEM certificate (and its chain); empty: none
    std::string key_file;   ///< the PEM private key of `cert_file`
};

/// HTTPS and WSS on the server's port (docs/tls.md). TLS 1.2 and 1.3 only, with Mozilla's
/// "intermediate" ciphers, session resumption (tickets), and ALPN `http/1.1`.
struct TlsOptions {
    /// The certificate served. Empty (the default): plain HTTP.
    TlsCertificate certificate;
    /// More certificates, each served to clients that ask for a name it holds (SNI); the
    /// first one serves the rest.
    std::vector<TlsCertificate> sni;
    /// A handshake not finished this long after its first byte is closed.
    std::chrono::milliseconds handshake_timeout{10000};

    /// True when a certificate is set: the server speaks TLS only.
    bool enabled() const noexcept { return !certificate.cert_file.empty(); }
};

/// How a server listens and runs. `App::run(argc, argv)` fills it from the command line.
struct ServerOptions {
    /// The address to listen on (`0.0.0.0` or `::` for every interface).
    std::string host = "127.0.0.1";
    std::uint16_t port = 8000;  ///< 0 picks a free port.
    unsigned threads = 0;       ///< 0 means one per CPU the process may use (its affinity).
    /// Listen on a port other processes already listen on (SO_REUSEPORT; theirs must set it
    /// too, as flamecpp always does, and run as the same user): the kernel spreads new
    /// connections over all of them. For a rolling restart: start the new process with it,
    /// then SIGTERM the old one, which stops accepting and drains. Without it, a port someone
    /// listens on is an error ("cannot listen ... Address already in use"). `--reuse-port`.
    bool reuse_port = false;
    /// The log level of the framework's records and of flamecpp::log.
    LogLevel log_level = LogLevel::info;
    /// Stop gracefully on SIGINT and SIGTERM; with TLS, reload the certificates on SIGHUP.
    bool handle_signals = true;
    /// Print "listening on http://ADDR:PORT" (https:// with TLS) to stdout.
    bool print_listening = true;
    /// TLS; `App::run` fills it from `--tls-cert` and `--tls-key`.
    TlsOptions tls;
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
    /// `std::runtime_error` saying what failed (the address is in use, a startup hook threw),
    /// or `ConfigurationError` (TLS files that do not load) before the hooks run.
    Server(App& app, ServerOptions options);
    /// Stops and joins, if still running.
    ~Server();  // NOLINT(bugprone-exception-escape): see server.cpp
    /// Not copyable: the object is the running server.
    Server(const Server&) = delete;
    /// Not copyable.
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
    /// Loads the TLS certificates and keys again from their files (after a renewal): new
    /// connections get them, open ones keep theirs. Throws `std::runtime_error` naming the
    /// file that does not load, and then keeps the old ones. SIGHUP does the same. Safe to
    /// call from any thread; a server without TLS throws `std::logic_error`.
    void reload_tls();

    /// Internal: the server's state, defined inside the library.
    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace flamecpp
