// Soak: a few minutes of mixed HTTP and WebSocket load on samples/endpoints (two threads) while
// other clients misbehave, then the server must still answer, its descriptors must be back to
// the baseline and its memory near it. Label `soak`, not in the default run:
//   ctest --preset debug -L soak            (FLAMECPP_SOAK_SECONDS=120 by default)
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "http_client.hpp"
#include "process.hpp"
#include "ws_client.hpp"

namespace flamecpp::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::chrono::seconds soak_duration() {
    const char* s = std::getenv("FLAMECPP_SOAK_SECONDS");
    return std::chrono::seconds(s != nullptr ? std::atoi(s) : 120);
}

struct Counters {
    std::atomic<long> http{0};
    std::atomic<long> ws{0};
    std::atomic<long> misbehaved{0};
    std::atomic<long> unexpected{0};
};

/// A well-behaved keep-alive client: every route kind, expected statuses only.
void http_client(std::uint16_t port, const std::atomic<bool>& stop, Counters& counters) {
    struct Call {
        std::string request;
        int status;
    };
    const std::vector<Call> calls = {
        {make_request("GET", "/foo/"), 200},
        {make_request("GET", "/bar/"), 200},
        {make_request("GET", "/users/42"), 200},
        {make_request("GET", "/users/x"), 404},
        {make_request("GET", "/files/a/b.txt"), 200},
        {make_request("GET", "/search?q=soak&limit=3"), 200},
        {make_request("GET", "/search?limit=3"), 400},
        {make_request("POST", "/items/", {{"Content-Type", "application/json"}},
                      R"({"name":"x","price":1.5})"),
         201},
        {make_request("POST", "/items/", {{"Content-Type", "application/json"}}, R"({"name":1})"),
         400},
        {make_request("PUT", "/foo/"), 405},
        {make_request("GET", "/boom/"), 500},
        {make_request("GET", "/foobar/"), 200},
        {make_request("POST", "/foobar/"), 200},
    };
    std::size_t i = 0;
    while (!stop) {
        try {
            RawConnection c(port);
            for (int n = 0; n < 100 && !stop; ++n, ++i) {
                const Call& call = calls[i % calls.size()];
                c.send(call.request);
                auto r = c.read_response(5s);
                if (r.status != call.status) {
                    ++counters.unexpected;
                    std::fprintf(stderr, "soak: %d for %s\n", r.status,
                                 call.request.substr(0, call.request.find('\r')).c_str());
                }
                ++counters.http;
            }
        } catch (const std::exception& e) {
            ++counters.unexpected;
            std::fprintf(stderr, "soak: http client: %s\n", e.what());
        }
    }
}

/// A well-behaved WebSocket client: sessions of 20 echoes on each encoding, closed properly.
void ws_client(std::uint16_t port, const std::atomic<bool>& stop, Counters& counters) {
    const std::vector<std::pair<std::string, std::string>> routes = {
        {"/ws/json", R"({"n":1})"}, {"/ws/text", "hello"}, {"/ws/fn", "echo"}};
    std::size_t i = 0;
    while (!stop) {
        const auto& [path, message] = routes[i++ % routes.size()];
        try {
            WsClient ws;
            ws.connect(port, path);
            for (int n = 0; n < 20; ++n) {
                ws.send_text(message);
                auto event = ws.receive(5s);
                (void)event;
                ++counters.ws;
            }
            ws.close(1000);
        } catch (const std::exception& e) {
            ++counters.unexpected;
            std::fprintf(stderr, "soak: websocket client on %s: %s\n", path.c_str(), e.what());
        }
    }
}

/// Clients that misbehave in turn. Any answer (or none) is fine; the server must survive.
void misbehaving_client(std::uint16_t port,
                        const std::atomic<bool>& stop,
                        Counters& counters,
                        unsigned seed) {
    std::mt19937 random(seed);
    std::string garbage(2048, '\0');
    int kind = 0;
    while (!stop) {
        try {
            switch (kind++ % 9) {
                case 0: {  // connect and vanish
                    RawConnection c(port);
                    break;
                }
                case 1: {  // slowloris: half a header, trickled, then gone
                    RawConnection c(port);
                    c.send_slowly("GET /foo/ HTTP/1.1\r\nHost: x\r\nX-Slow: ", 4, 50ms);
                    break;
                }
                case 2: {  // random bytes
                    for (auto& ch : garbage) {
                        ch = static_cast<char>(random());
                    }
                    RawConnection c(port);
                    (void)c.try_send(garbage, 1s);
                    (void)c.wait_closed(2s);
                    break;
                }
                case 3: {  // a header block over the limit
                    RawConnection c(port);
                    (void)c.try_send(
                        "GET /foo/ HTTP/1.1\r\nX-Big: " + std::string(64 * 1024, 'a') + "\r\n\r\n",
                        2s);
                    (void)c.wait_closed(2s);
                    break;
                }
                case 4: {  // half a body, then gone
                    RawConnection c(port);
                    c.send(
                        "POST /items/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                        "Content-Length: 100\r\n\r\n{\"name\":");
                    break;
                }
                case 5: {  // a pipelined burst, never read
                    RawConnection c(port);
                    std::string burst;
                    for (int i = 0; i < 64; ++i) {
                        burst += make_request("GET", "/foo/");
                    }
                    (void)c.try_send(burst, 1s);
                    break;
                }
                case 6: {  // a WebSocket dropped mid-session, without a close frame
                    WsClient ws;
                    ws.connect(port, "/ws/json");
                    ws.send_text(R"({"a":1})");
                    ws.drop();
                    break;
                }
                case 7: {  // a WebSocket that breaks the protocol (unmasked frame), then ignores
                           // the server's close: the server must give up on it by itself
                    RawWebSocket ws(port, "/ws/text");
                    (void)ws.send(std::string("\x81\x02hi", 4));
                    std::this_thread::sleep_for(100ms);
                    break;
                }
                case 8: {  // a message over the WebSocket limit
                    WsClient ws;
                    ws.connect(port, "/ws/bytes");
                    ws.send_binary(std::string(2 * 1024 * 1024, 'x'), 5s);
                    (void)ws.receive(5s);
                    break;
                }
            }
            ++counters.misbehaved;
        } catch (const std::exception&) {
            ++counters.misbehaved;  // refused or cut: expected for some of these
        }
    }
}

void run_load(std::uint16_t port, std::chrono::seconds duration, Counters& counters) {
    std::atomic<bool> stop{false};
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i) {
        threads.emplace_back(http_client, port, std::cref(stop), std::ref(counters));
    }
    for (int i = 0; i < 2; ++i) {
        threads.emplace_back(ws_client, port, std::cref(stop), std::ref(counters));
    }
    for (unsigned i = 0; i < 2; ++i) {
        threads.emplace_back(misbehaving_client, port, std::cref(stop), std::ref(counters), i);
    }
    std::this_thread::sleep_for(duration);
    stop = true;
    for (auto& t : threads) {
        t.join();
    }
}

TEST(Soak, MixedLoadWithMisbehavingClients) {
    auto server =
        SampleProcess::start(FLAMECPP_SAMPLE_ENDPOINTS, {"--threads", "2", "--log-level", "off"},
                             small_asan_quarantine());
    const pid_t pid = server.pid();
    const std::size_t idle_fds = open_descriptors(pid);

    // Warm up: the allocator's pools, the Date cache, thread-local buffers.
    Counters warmup;
    run_load(server.port(), 10s, warmup);
    auto settle = [&](std::chrono::seconds limit) {
        auto deadline = Clock::now() + limit;
        while (open_descriptors(pid) > idle_fds && Clock::now() < deadline) {
            std::this_thread::sleep_for(250ms);
        }
    };
    settle(30s);
    const long baseline_rss = rss_kib(pid);

    Counters counters;
    const auto duration = soak_duration();
    run_load(server.port(), duration, counters);
    long peak_rss = rss_kib(pid);

    // Idle and header timeouts (5 s, 10 s) and the WebSocket close timeout (5 s) close what
    // the misbehaving clients left open.
    settle(30s);
    const std::size_t fds = open_descriptors(pid);
    const long rss = rss_kib(pid);
    std::printf(
        "soak: %lld s, %ld HTTP responses, %ld WebSocket echoes, %ld misbehaving clients\n"
        "soak: descriptors idle %zu, after %zu; RSS after warm-up %ld KiB, end of load %ld KiB, "
        "settled %ld KiB\n",
        static_cast<long long>(duration.count()), counters.http.load(), counters.ws.load(),
        counters.misbehaved.load(), idle_fds, fds, baseline_rss, peak_rss, rss);

    EXPECT_TRUE(server.running()) << "the server died under load";
    EXPECT_EQ(counters.unexpected.load(), 0) << "well-behaved clients saw errors (stderr)";
    EXPECT_GT(counters.http.load(), 1000);
    EXPECT_GT(counters.ws.load(), 100);
    EXPECT_EQ(fds, idle_fds) << "descriptors leaked";
    EXPECT_LT(rss, baseline_rss + baseline_rss / 4 + 8 * 1024)
        << "memory did not return near its baseline";
    EXPECT_EQ(http_get(server.port(), "/foo/").status, 200);
    EXPECT_EQ(server.stop(SIGTERM), 0);
}

}  // namespace
}  // namespace flamecpp::test
