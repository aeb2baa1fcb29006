// The reference floor for bench/run: a minimal Boost.Beast C++20 coroutine server on one
// thread, the straightforward way (request<string_body>, response<string_body>, one write per
// response), serving what samples/bench serves. No framework, no routing table.
//   beast_ref PORT
#include <cstdio>
#include <cstdlib>
#include <string>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

asio::awaitable<void> session(tcp::socket socket) {
    beast::flat_buffer buffer;
    for (;;) {
        http::request<http::string_body> req;
        auto [ec, n] =
            co_await http::async_read(socket, buffer, req, asio::as_tuple(asio::use_awaitable));
        if (ec) {
            co_return;
        }
        http::response<http::string_body> res{http::status::ok, req.version()};
        res.set(http::field::server, "beast-ref");
        if (req.target() == "/json") {
            res.set(http::field::content_type, "application/json");
            res.body() = boost::json::serialize(boost::json::value{{"message", "Hello, World!"}});
        } else if (req.target() == "/plaintext") {
            res.set(http::field::content_type, "text/plain");
            res.body() = "Hello, World!";
        } else {
            res.result(http::status::not_found);
            res.body() = "Not Found";
        }
        res.keep_alive(req.keep_alive());
        res.prepare_payload();
        auto [wec, wn] =
            co_await http::async_write(socket, res, asio::as_tuple(asio::use_awaitable));
        if (wec || !res.keep_alive()) {
            co_return;
        }
    }
}

asio::awaitable<void> listener(tcp::acceptor& acceptor) {
    for (;;) {
        auto [ec, socket] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
        if (ec) {
            co_return;
        }
        socket.set_option(tcp::no_delay(true));
        asio::co_spawn(acceptor.get_executor(), session(std::move(socket)), asio::detached);
    }
}

int main(int argc, char** argv) {
    unsigned short port = argc > 1 ? static_cast<unsigned short>(std::atoi(argv[1])) : 0;
    asio::io_context io{1};
    tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), port});
    std::printf("listening on http://127.0.0.1:%u\n", unsigned{acceptor.local_endpoint().port()});
    std::fflush(stdout);
    asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](auto, auto) { io.stop(); });
    asio::co_spawn(io, listener(acceptor), asio::detached);
    io.run();
}
