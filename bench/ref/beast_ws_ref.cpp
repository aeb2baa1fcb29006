// The WebSocket reference floor for bench/run: a minimal Boost.Beast C++20 coroutine echo
// server on one thread, the straightforward way (websocket::stream over tcp::socket, one
// flat_buffer per connection, read a message, write it back). Any path upgrades.
//   beast_ws_ref PORT
#include <cstdio>
#include <cstdlib>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using asio::ip::tcp;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

asio::awaitable<void> session(tcp::socket socket) {
    websocket::stream<tcp::socket> ws(std::move(socket));
    auto [aec] = co_await ws.async_accept(use_tuple);
    if (aec) {
        co_return;
    }
    beast::flat_buffer buffer;
    for (;;) {
        auto [ec, n] = co_await ws.async_read(buffer, use_tuple);
        if (ec) {
            co_return;
        }
        ws.text(ws.got_text());
        auto [wec, wn] = co_await ws.async_write(buffer.data(), use_tuple);
        if (wec) {
            co_return;
        }
        buffer.consume(n);
    }
}

asio::awaitable<void> listener(tcp::acceptor& acceptor) {
    for (;;) {
        auto [ec, socket] = co_await acceptor.async_accept(use_tuple);
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
