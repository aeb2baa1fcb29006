// The stack's floor for bench/run: the epoll floor's protocol and canned answers
// (canned.hpp) on Boost.Asio C++20 coroutines, the way flamecpp uses them, and nothing else.
// One thread, one io_context with the reactor's per-descriptor locks off (as flamecpp's
// workers), one coroutine per connection awaiting async_read_some, every complete request in
// the buffer answered, and one send(2) for all their answers, made at once from the coroutine
// (a co_await of async_write only when the socket is full). No parser, no routing, no
// per-request allocation. What it costs beyond the epoll floor is what Asio's reactor and
// awaitable machinery cost; no framework on this stack can spend less. GET /ws is the same
// echo as the epoll floor's.
//   asio_ref PORT      (0: any free port; the line "listening on http://127.0.0.1:PORT" says which)
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <string>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "canned.hpp"

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

asio::awaitable<void> serve(tcp::socket socket, canned::Answers& answers) {
    boost::system::error_code ec;
    socket.non_blocking(true, ec);
    socket.set_option(tcp::no_delay(true), ec);
    canned::Connection c;
    std::string out;
    while (!c.close_after) {
        auto [read_ec, n] = co_await socket.async_read_some(
            asio::buffer(c.in.data() + c.used, c.in.size() - c.used), use_tuple);
        if (read_ec) {
            co_return;
        }
        c.used += n;
        answers.refresh(std::time(nullptr));
        out.clear();
        canned::respond(c, answers, out);
        if (out.empty()) {
            continue;
        }
        const std::size_t sent = socket.write_some(asio::buffer(out), ec);
        if (ec == asio::error::would_block) {
            ec = {};
        } else if (ec) {
            co_return;
        }
        if (sent < out.size()) {
            auto [write_ec, written] = co_await asio::async_write(
                socket, asio::buffer(out.data() + sent, out.size() - sent), use_tuple);
            if (write_ec) {
                co_return;
            }
        }
    }
}

asio::awaitable<void> accept(tcp::acceptor& acceptor, canned::Answers& answers) {
    for (;;) {
        auto [ec, socket] = co_await acceptor.async_accept(use_tuple);
        if (!ec) {
            asio::co_spawn(acceptor.get_executor(), serve(std::move(socket), answers),
                           asio::detached);
        }
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: asio_ref PORT\n");
        return 2;
    }
    try {
        asio::io_context io{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO};
        tcp::acceptor acceptor(io);
        const tcp::endpoint at(asio::ip::address_v4::loopback(),
                               static_cast<unsigned short>(std::atoi(argv[1])));
        acceptor.open(at.protocol());
        acceptor.set_option(tcp::acceptor::reuse_address(true));
        acceptor.bind(at);
        acceptor.listen(4096);
        std::printf("listening on http://127.0.0.1:%d\n", int(acceptor.local_endpoint().port()));
        std::fflush(stdout);
        canned::Answers answers("asio-ref");
        asio::co_spawn(io, accept(acceptor, answers), asio::detached);
        io.run();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "asio_ref: %s\n", e.what());
        return 1;
    }
}
