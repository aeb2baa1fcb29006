// Opens N keep-alive connections to 127.0.0.1:PORT, makes one GET on each (so the server has
// served a request on it and holds it idle, as a browser's connection between requests),
// prints "open=N" once all are answered, then holds them for --hold seconds and exits.
// bench/run reads the server's RSS meanwhile: bytes per idle keep-alive connection.
//   conn_hold --port P [--connections 10000] [--hold 3] [--path /plaintext]
#include <chrono>
#include <cstdio>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/program_options.hpp>

namespace asio = boost::asio;
namespace http = boost::beast::http;
namespace po = boost::program_options;
using asio::ip::tcp;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

struct State {
    std::size_t answered = 0;
    std::size_t failed = 0;
    std::size_t total = 0;
    std::vector<std::unique_ptr<tcp::socket>> held;
    asio::steady_timer* all_done = nullptr;
};

asio::awaitable<void> one(tcp::endpoint endpoint, std::string target, State& state) {
    auto socket = std::make_unique<tcp::socket>(co_await asio::this_coro::executor);
    auto [cec] = co_await socket->async_connect(endpoint, use_tuple);
    bool ok = !cec;
    if (ok) {
        http::request<http::empty_body> req{http::verb::get, target, 11};
        req.set(http::field::host, "127.0.0.1");
        auto [wec, wn] = co_await http::async_write(*socket, req, use_tuple);
        boost::beast::flat_buffer buffer;
        http::response<http::string_body> res;
        auto [rec, rn] = co_await http::async_read(*socket, buffer, res, use_tuple);
        ok = !wec && !rec && res.result_int() == 200 && res.keep_alive();
        (void)wn;
        (void)rn;
    }
    if (ok) {
        ++state.answered;
        state.held.push_back(std::move(socket));
    } else {
        ++state.failed;
    }
    if (state.answered + state.failed == state.total) {
        state.all_done->cancel();
    }
}

/// Starts connections `batch` at a time so the listen queue does not overflow.
asio::awaitable<void> opener(tcp::endpoint endpoint, std::string target, State& state) {
    auto ex = co_await asio::this_coro::executor;
    asio::steady_timer pace(ex);
    for (std::size_t i = 0; i < state.total; ++i) {
        asio::co_spawn(ex, one(endpoint, target, state), asio::detached);
        if (i % 256 == 255) {
            pace.expires_after(std::chrono::milliseconds(2));
            co_await pace.async_wait(use_tuple);
        }
    }
}

int main(int argc, char** argv) {
    unsigned short port = 0;
    std::size_t connections = 0;
    double hold = 0;
    std::string path;
    po::options_description options("conn_hold options");
    options.add_options()("help", "this text")("port", po::value(&port)->required(),
                                               "server port on 127.0.0.1")(
        "connections", po::value(&connections)->default_value(10000), "connections to hold")(
        "hold", po::value(&hold)->default_value(3), "seconds to hold them once answered")(
        "path", po::value(&path)->default_value("/plaintext"), "the one request per connection");
    try {
        po::variables_map vm;
        po::store(po::parse_command_line(argc, argv, options), vm);
        if (vm.count("help") != 0) {
            std::printf("%s", (std::ostringstream() << options).str().c_str());
            return 0;
        }
        po::notify(vm);
    } catch (const po::error& e) {
        std::fprintf(stderr, "conn_hold: %s\n", e.what());
        return 2;
    }
    asio::io_context io{1};
    State state;
    state.total = connections;
    state.held.reserve(connections);
    asio::steady_timer all_done(io, asio::steady_timer::time_point::max());
    state.all_done = &all_done;
    tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), port);
    asio::co_spawn(io, opener(endpoint, path, state), asio::detached);
    asio::steady_timer hold_timer(io);
    all_done.async_wait([&](boost::system::error_code) {
        std::printf("open=%zu failed=%zu\n", state.answered, state.failed);
        std::fflush(stdout);
        hold_timer.expires_after(std::chrono::duration_cast<std::chrono::nanoseconds>(
            std::chrono::duration<double>(hold)));
        hold_timer.async_wait([&](boost::system::error_code) { state.held.clear(); });
    });
    io.run();
    return state.failed == 0 ? 0 : 1;
}
