// Opens N connections to an event stream on 127.0.0.1:PORT and reads them all at once,
// counting the events that arrive (an event ends with a blank line). After --warmup seconds
// it counts for --duration seconds and prints
//   open=N events=E rate=E/s min_per_conn=M max_per_conn=X
// bench/run reads the server's CPU time meanwhile: CPU per event delivered.
//   sse_load --port P [--connections 1000] [--duration 4] [--warmup 1] [--path /events]
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <limits>
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
#include <boost/program_options.hpp>

namespace asio = boost::asio;
namespace po = boost::program_options;
using asio::ip::tcp;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

struct State {
    bool counting = false;
    bool stop = false;
    std::size_t open = 0;
    std::size_t failed = 0;
    std::vector<std::uint64_t> events;  // per connection, while counting
};

/// Counts blank lines ("\n\n") across reads: the end of each event.
asio::awaitable<void> stream(tcp::endpoint endpoint,
                             std::string path,
                             State& state,
                             std::size_t index) {
    tcp::socket socket(co_await asio::this_coro::executor);
    auto [cec] = co_await socket.async_connect(endpoint, use_tuple);
    if (cec) {
        ++state.failed;
        co_return;
    }
    const std::string request =
        "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n";
    auto [wec, wn] = co_await asio::async_write(socket, asio::buffer(request), use_tuple);
    (void)wn;
    if (wec) {
        ++state.failed;
        co_return;
    }
    ++state.open;
    std::array<char, 16 * 1024> buffer{};
    char last = 0;
    while (!state.stop) {
        auto [ec, n] = co_await socket.async_read_some(asio::buffer(buffer), use_tuple);
        if (ec) {
            if (!state.stop) {
                ++state.failed;
            }
            co_return;
        }
        std::uint64_t ends = 0;
        for (std::size_t i = 0; i < n; ++i) {
            const char c = buffer[i];
            ends += (c == '\n' && last == '\n') ? 1 : 0;
            last = c;
        }
        if (state.counting) {
            state.events[index] += ends;
        }
    }
}

int main(int argc, char** argv) {
    unsigned short port = 0;
    std::size_t connections = 0;
    double duration = 0;
    double warmup = 0;
    std::string path;
    po::options_description options("sse_load options");
    options.add_options()("help", "this text")("port", po::value(&port)->required(),
                                               "server port on 127.0.0.1")(
        "connections", po::value(&connections)->default_value(1000), "event streams to read")(
        "duration", po::value(&duration)->default_value(4), "seconds to count events")(
        "warmup", po::value(&warmup)->default_value(1), "seconds before counting")(
        "path", po::value(&path)->default_value("/events"), "the event stream's path");
    try {
        po::variables_map vm;
        po::store(po::parse_command_line(argc, argv, options), vm);
        if (vm.count("help") != 0) {
            std::printf("%s", (std::ostringstream() << options).str().c_str());
            return 0;
        }
        po::notify(vm);
    } catch (const po::error& e) {
        std::fprintf(stderr, "sse_load: %s\n", e.what());
        return 2;
    }
    asio::io_context io{1};
    State state;
    state.events.assign(connections, 0);
    const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), port);
    for (std::size_t i = 0; i < connections; ++i) {
        asio::co_spawn(io, stream(endpoint, path, state, i), asio::detached);
    }
    const auto seconds = [](double s) {
        return std::chrono::duration_cast<std::chrono::nanoseconds>(
            std::chrono::duration<double>(s));
    };
    asio::steady_timer timer(io);
    std::chrono::steady_clock::time_point started;
    double counted = 0;
    timer.expires_after(seconds(warmup));
    timer.async_wait([&](boost::system::error_code) {
        state.counting = true;
        started = std::chrono::steady_clock::now();
        timer.expires_after(seconds(duration));
        timer.async_wait([&](boost::system::error_code) {
            state.counting = false;
            counted =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
            state.stop = true;
            io.stop();
        });
    });
    io.run();
    std::uint64_t total = 0;
    std::uint64_t least = std::numeric_limits<std::uint64_t>::max();
    std::uint64_t most = 0;
    for (auto e : state.events) {
        total += e;
        least = std::min(least, e);
        most = std::max(most, e);
    }
    std::printf("open=%zu failed=%zu events=%llu rate=%.0f min_per_conn=%llu max_per_conn=%llu\n",
                state.open, state.failed, static_cast<unsigned long long>(total),
                counted > 0 ? static_cast<double>(total) / counted : 0.0,
                static_cast<unsigned long long>(least), static_cast<unsigned long long>(most));
    return state.failed == 0 && state.open == connections ? 0 : 1;
}
