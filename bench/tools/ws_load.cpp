// WebSocket echo load for bench/run: C connections, each sending one message of S bytes and
// waiting for its echo before the next, for D seconds after a warm-up. Prints one line:
//   messages=N seconds=D rate=R p50_us=A p99_us=B errors=E all=M   (M: every echo, warm-up too)
// The handshake is Beast's; after it, each connection writes one prebuilt masked frame and
// reads the echo frame straight from the socket, so that the load generator spends as little
// as possible per message (it shares the machine with the server under test).
//   ws_load --port P [--path /ws] [--connections 64] [--duration 8] [--warmup 1] [--size 32]
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/program_options.hpp>

namespace asio = boost::asio;
namespace websocket = boost::beast::websocket;
namespace po = boost::program_options;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

struct Run {
    Clock::time_point measure_from;
    Clock::time_point end;
    std::vector<std::uint32_t> rtt_ns;  // one per measured message
    std::uint64_t errors = 0;
    std::uint64_t all = 0;  // every echo, the warm-up's too (for CPU time per echo)
    std::size_t open = 0;
};

/// A client text frame (FIN, opcode 1) of `size` bytes of 'x', masked with a fixed key.
std::string masked_frame(std::size_t size) {
    std::string frame;
    frame += static_cast<char>(0x81);
    if (size < 126) {
        frame += static_cast<char>(0x80 | size);
    } else {
        frame += static_cast<char>(0x80 | 126);
        frame += static_cast<char>((size >> 8) & 0xff);
        frame += static_cast<char>(size & 0xff);
    }
    const unsigned char key[4] = {0x12, 0x34, 0x56, 0x78};
    frame.append(reinterpret_cast<const char*>(key), 4);
    for (std::size_t i = 0; i < size; ++i) {
        frame += static_cast<char>('x' ^ key[i % 4]);
    }
    return frame;
}

asio::awaitable<void> connection(tcp::endpoint endpoint,
                                 std::string path,
                                 const std::string& frame,
                                 std::size_t size,
                                 Run& run) {
    websocket::stream<tcp::socket> ws(co_await asio::this_coro::executor);
    auto [cec] = co_await ws.next_layer().async_connect(endpoint, use_tuple);
    if (cec) {
        ++run.errors;
        co_return;
    }
    ws.next_layer().set_option(tcp::no_delay(true));
    auto [hec] = co_await ws.async_handshake("127.0.0.1", path, use_tuple);
    if (hec) {
        ++run.errors;
        co_return;
    }
    ++run.open;
    tcp::socket& socket = ws.next_layer();
    // The server's frame: unmasked, FIN + text, then the 1- or 3-byte length, then the payload.
    const std::size_t echo_size = (size < 126 ? 2 : 4) + size;
    std::vector<char> echo(echo_size);
    while (Clock::now() < run.end) {
        auto sent = Clock::now();
        auto [wec, wn] = co_await asio::async_write(socket, asio::buffer(frame), use_tuple);
        if (wec) {
            ++run.errors;
            co_return;
        }
        auto [rec, rn] = co_await asio::async_read(socket, asio::buffer(echo), use_tuple);
        if (rec || static_cast<unsigned char>(echo[0]) != 0x81) {
            ++run.errors;
            co_return;
        }
        ++run.all;
        auto now = Clock::now();
        if (now >= run.measure_from && now < run.end) {
            run.rtt_ns.push_back(static_cast<std::uint32_t>(
                std::chrono::duration_cast<std::chrono::nanoseconds>(now - sent).count()));
        }
        (void)wn;
        (void)rn;
    }
    boost::system::error_code ignored;
    socket.shutdown(tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
}

int main(int argc, char** argv) {
    unsigned short port = 0;
    std::string path;
    unsigned connections = 0;
    double duration = 0;
    double warmup = 0;
    std::size_t size = 0;
    po::options_description options("ws_load options");
    options.add_options()("help", "this text")("port", po::value(&port)->required(),
                                               "server port on 127.0.0.1")(
        "path", po::value(&path)->default_value("/ws"), "WebSocket path")(
        "connections", po::value(&connections)->default_value(64), "concurrent connections")(
        "duration", po::value(&duration)->default_value(8), "measured seconds")(
        "warmup", po::value(&warmup)->default_value(1), "seconds before measuring")(
        "size", po::value(&size)->default_value(32), "message size in bytes (< 65536)");
    try {
        po::variables_map vm;
        po::store(po::parse_command_line(argc, argv, options), vm);
        if (vm.count("help") != 0) {
            std::printf("%s", (std::ostringstream() << options).str().c_str());
            return 0;
        }
        po::notify(vm);
        if (size >= 65536 || connections == 0) {
            throw po::error("--size must be below 65536 and --connections above 0");
        }
    } catch (const po::error& e) {
        std::fprintf(stderr, "ws_load: %s\n", e.what());
        return 2;
    }

    asio::io_context io{1};
    Run run;
    auto start = Clock::now();
    run.measure_from =
        start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(warmup));
    run.end = run.measure_from +
              std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(duration));
    run.rtt_ns.reserve(1 << 22);
    const std::string frame = masked_frame(size);
    tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), port);
    for (unsigned i = 0; i < connections; ++i) {
        asio::co_spawn(io, connection(endpoint, path, frame, size, run), asio::detached);
    }
    io.run();

    auto& rtt = run.rtt_ns;
    std::sort(rtt.begin(), rtt.end());
    auto percentile = [&](double p) -> double {
        if (rtt.empty()) {
            return 0;
        }
        return rtt[std::min(rtt.size() - 1, static_cast<std::size_t>(p * rtt.size()))] / 1000.0;
    };
    std::printf(
        "messages=%zu seconds=%.2f rate=%.0f p50_us=%.1f p99_us=%.1f errors=%llu all=%llu\n",
        rtt.size(), duration, rtt.size() / duration, percentile(0.50), percentile(0.99),
        static_cast<unsigned long long>(run.errors), static_cast<unsigned long long>(run.all));
    return run.errors == 0 && run.open == connections ? 0 : 1;
}
