#include "session_harness.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <sys/socket.h>

#include "app/app_impl.hpp"
#include "app/components.hpp"
#include "log.hpp"
#include "server/tls.hpp"
#include "server/worker.hpp"

namespace flamecpp::fuzz {
namespace asio = boost::asio;
namespace http = boost::beast::http;
using asio::ip::tcp;
using Local = asio::local::stream_protocol;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

namespace {

[[noreturn]] void fail(const char* what) {
    std::fprintf(stderr, "fuzz: %s\n", what);
    std::fflush(stderr);
    std::abort();
}

asio::awaitable<void> run_session(detail::Worker& worker, tcp::socket socket, bool& done) {
    co_await detail::run_http_session(worker, std::move(socket));
    done = true;
}

/// Set by the receiver once the head of the first response is in (or the server closed).
struct HeadSeen {
    bool seen = false;
    asio::steady_timer* signal = nullptr;
};

asio::awaitable<void> send_all(Local::socket& client,
                               std::string_view input,
                               std::string_view after_head,
                               HeadSeen& head) {
    auto [ec, n] =
        co_await asio::async_write(client, asio::buffer(input.data(), input.size()), use_tuple);
    (void)n;
    // On an error the server closed first (an error answer): the rest is not wanted.
    if (!ec && !after_head.empty()) {
        if (!head.seen) {
            auto [wait_ec] = co_await head.signal->async_wait(use_tuple);
            (void)wait_ec;
        }
        auto [ec2, n2] = co_await asio::async_write(
            client, asio::buffer(after_head.data(), after_head.size()), use_tuple);
        (void)ec2;
        (void)n2;
    }
    boost::system::error_code ignored;
    client.shutdown(Local::socket::shutdown_send, ignored);
}

asio::awaitable<void> receive_all(Local::socket& client, std::string& out, HeadSeen& head) {
    constexpr std::size_t keep = 1 << 20;  // enough to judge; the rest is read and dropped
    char chunk[16384];
    for (;;) {
        auto [ec, n] = co_await client.async_read_some(asio::buffer(chunk), use_tuple);
        if (out.size() < keep) {
            out.append(chunk, std::min(n, keep - out.size()));
        }
        if (!head.seen && (ec || out.find("\r\n\r\n") != std::string::npos)) {
            head.seen = true;
            head.signal->cancel();
        }
        if (ec) {
            co_return;
        }
    }
}

}  // namespace

SessionHarness::SessionHarness(App& app) {
    options_.log_level = LogLevel::off;
    options_.on_handler_error = [](std::exception_ptr error) {
        try {
            std::rethrow_exception(error);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "fuzz: a handler threw: %s\n", e.what());
        } catch (...) {
            std::fprintf(stderr, "fuzz: a handler threw a non-standard exception\n");
        }
        std::abort();
    };
    detail::set_log_level(options_.log_level);
    detail::validate_components(app.impl().router.routes(), app.impl().components);
    worker_ = std::make_unique<detail::Worker>(app.impl(), options_);
    worker_->bind_to_this_thread();  // the sessions run their loop on this thread
}

SessionHarness::~SessionHarness() = default;

void SessionHarness::use_tls(const TlsCertificate& certificate) {
    options_.tls.certificate = certificate;
    worker_->tls = detail::TlsContext::load(options_.tls);
}

std::string SessionHarness::exchange(std::string_view input, std::string_view after_head) {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
        fail("socketpair failed");
    }
    auto& io = worker_->io;
    // The session only reads and writes its socket, so an AF_UNIX stream behind a tcp::socket
    // behaves like a connection (remote_endpoint fails, and the session tolerates that).
    tcp::socket server(io);
    server.assign(tcp::v4(), fds[0]);
    Local::socket client(io, Local(), fds[1]);

    std::string out;
    bool done = false;
    asio::steady_timer signal(io, asio::steady_timer::time_point::max());
    HeadSeen head{false, &signal};
    asio::co_spawn(io, run_session(*worker_, std::move(server), done), asio::detached);
    asio::co_spawn(io, send_all(client, input, after_head, head), asio::detached);
    asio::co_spawn(io, receive_all(client, out, head), asio::detached);
    io.restart();
    io.run_for(std::chrono::seconds(10));
    if (!done) {
        fail("the session was still running 10 s after the client's EOF");
    }
    return out;
}

void check_responses(std::string_view out, bool head_first, std::size_t max_responses) {
    boost::system::error_code ec;
    bool first = true;
    for (std::size_t count = 0; !out.empty() && count < max_responses; ++count) {
        http::response_parser<http::string_body> parser;
        parser.body_limit(boost::none);
        parser.header_limit(64 * 1024);
        parser.eager(true);
        if (first && head_first) {
            parser.skip(true);
        }
        first = false;
        std::size_t used = 0;
        while (!parser.is_done()) {
            std::size_t n = parser.put(asio::buffer(out.data() + used, out.size() - used), ec);
            used += n;
            if (ec == http::error::need_more && used == out.size()) {
                // A response that needs no length (read to EOF) ends with the stream.
                parser.put_eof(ec);
                break;
            }
            if (ec) {
                break;
            }
        }
        if (ec && ec != http::error::need_more) {
            std::fprintf(stderr, "fuzz: the server wrote a malformed response (%s):\n%.*s\n",
                         ec.message().c_str(),
                         static_cast<int>(std::min<std::size_t>(out.size(), 2048)), out.data());
            std::abort();
        }
        if (!parser.is_done()) {
            return;  // cut short: the output was truncated to its first MiB
        }
        if (parser.get().result_int() == 101) {
            return;
        }
        if (parser.get().result_int() >= 500 && parser.get().result_int() != 501) {
            std::fprintf(stderr, "fuzz: the server answered %u:\n%.*s\n", parser.get().result_int(),
                         static_cast<int>(std::min<std::size_t>(out.size(), 2048)), out.data());
            std::abort();
        }
        out.remove_prefix(used);
    }
}

}  // namespace flamecpp::fuzz
