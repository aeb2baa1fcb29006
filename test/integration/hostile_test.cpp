// Clients that misbehave: each is answered or dropped, and the server goes on serving others.
// (Trickled headers, oversized input and CL+TE are in the samples' contract tests.)
#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <unistd.h>

#include <flamecpp/flamecpp.hpp>
#include <flamecpp/testing.hpp>

#include "http_client.hpp"
#include "process.hpp"
#include "ws_client.hpp"

namespace flamecpp {
namespace {

using test::make_request;
using test::RawConnection;
using namespace std::chrono_literals;

App make_app() {
    App app;
    app.route("/", [] { return Response::text("ok"); });
    app.route("/echo", [](Request& r) { return Response::text(std::string(r.body())); },
              {Method::post});
    app.route("/big", [] { return Response::text(std::string(256 * 1024, 'b')); });
    return app;
}

testing::ClientOptions quiet() {
    testing::ClientOptions o;
    o.log_level = LogLevel::off;
    return o;
}

/// Sends `bytes` on a new connection and expects a 400 followed by the server closing.
void ExpectRejected(std::uint16_t port, const std::string& bytes) {
    RawConnection c(port);
    c.send(bytes);
    auto r = c.read_response();
    EXPECT_EQ(r.status, 400) << bytes;
    EXPECT_TRUE(c.wait_closed(5s)) << "the connection stayed open after: " << bytes;
}

void ExpectStillServingOn(testing::TestClient& client) { EXPECT_EQ(client.get("/").text(), "ok"); }

class Hostile : public ::testing::Test {
protected:
    testing::TestClient client{make_app(), quiet()};
    std::uint16_t port() const { return client.port(); }
    void ExpectStillServing() { EXPECT_EQ(client.get("/").text(), "ok"); }
};

// --- Request smuggling shapes (RFC 9112 6.3, 5.2, 2.2) ----------------------------------------

TEST_F(Hostile, DuplicateContentLengthIs400) {
    ExpectRejected(port(),
                   "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n"
                   "\r\nhelloGET / HTTP/1.1\r\n\r\n");
    ExpectRejected(port(), "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 6\r\n\r\nhello!");
    ExpectStillServing();
}

TEST_F(Hostile, ObsFoldIs400) {
    ExpectRejected(port(), "GET / HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n b\r\n\r\n");
    ExpectRejected(port(), "GET / HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n\tb\r\n\r\n");
    ExpectStillServing();
}

TEST_F(Hostile, BareLfLineEndingsAre400) {
    ExpectRejected(port(), "GET / HTTP/1.1\nHost: x\n\n");
    ExpectRejected(port(), "GET / HTTP/1.1\r\nHost: x\nX-A: b\r\n\r\n");
    ExpectStillServing();
}

TEST_F(Hostile, SpaceBeforeTheColonIs400) {
    ExpectRejected(port(), "GET / HTTP/1.1\r\nHost: x\r\nContent-Length : 5\r\n\r\nhello");
    ExpectStillServing();
}

// --- Half-closed, flooding and slow clients ------------------------------------------------------

TEST_F(Hostile, AHalfClosedClientStillGetsItsAnswer) {
    RawConnection c(port());
    c.send(make_request("GET", "/"));
    c.shutdown_write();
    auto r = c.read_response();
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "ok");
    EXPECT_TRUE(c.wait_closed(5s));
    ExpectStillServing();
}

TEST_F(Hostile, APipelinedFloodIsAnsweredInOrder) {
    constexpr int n = 2000;
    std::string flood;
    for (int i = 0; i < n; ++i) {
        flood += make_request("POST", "/echo", {}, std::to_string(i));
    }
    RawConnection c(port());
    // Written from another thread: the server answers while the flood is still arriving, and
    // a client that wrote everything before reading could fill both socket buffers.
    std::thread writer([&] { c.send(flood, 10s); });
    int in_order = 0;
    for (int i = 0; i < n; ++i) {
        if (c.read_response(10s).body == std::to_string(i)) {
            ++in_order;
        }
    }
    writer.join();
    EXPECT_EQ(in_order, n);
}

// Between requests the first bytes land in a 256-byte buffer: requests and batches of every
// size around it, and a client that switches between pipelining and single requests (whose
// buffers the server keeps, then gives back).
TEST_F(Hostile, RequestsAndBatchesAroundTheFirstReadBufferAreAnswered) {
    RawConnection c(port());
    int sent = 0;
    auto request = [&](std::size_t size) {
        // A POST whose body pads it to exactly `size` bytes: the head without a body, then
        // "Content-Length: " and the length's digits and CRLF, then the body.
        const std::size_t head = make_request("POST", "/echo", {}, "").size();
        std::size_t length = 0;
        for (std::size_t digits = 1; digits < 6; ++digits) {
            const std::size_t candidate = size - head - 18 - digits;
            if (std::to_string(candidate).size() == digits) {
                length = candidate;
            }
        }
        std::string body = std::to_string(sent++) + ":";
        body.resize(length, 'x');
        std::string r = make_request("POST", "/echo", {}, body);
        EXPECT_EQ(r.size(), size);
        return r;
    };
    std::vector<std::string> expected;
    for (std::size_t size : {200, 255, 256, 257, 300, 1000, 5000}) {
        for (int batch : {1, 2, 16, 1}) {
            std::string bytes;
            for (int i = 0; i < batch; ++i) {
                const std::string r = request(size);
                const auto body_at = r.find("\r\n\r\n") + 4;
                expected.push_back(r.substr(body_at));
                bytes += r;
            }
            c.send(bytes, 5s);
            for (int i = 0; i < batch; ++i) {
                const auto answer = c.read_response(5s);
                ASSERT_EQ(answer.status, 200) << size << " x " << batch;
                ASSERT_EQ(answer.body, expected[expected.size() - batch + i]) << size;
            }
        }
    }
    ExpectStillServing();
}

TEST_F(Hostile, AClientThatNeverReadsDoesNotStallOthers) {
    RawConnection stuck(port());
    std::string requests;
    for (int i = 0; i < 64; ++i) {
        requests += make_request("GET", "/big");
    }
    // 64 x 256 KiB answers: far more than the socket buffers hold. The server blocks on this
    // connection's write, not on its thread.
    stuck.try_send(requests, 2s);
    std::this_thread::sleep_for(200ms);
    auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < 20; ++i) {
        ExpectStillServing();
    }
    EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

// --- The connection limit
// -------------------------------------------------------------------------

TEST(ConnectionLimit, ConnectionsBeyondTheLimitWaitForAFreeSlot) {
    App app = make_app();
    app.limits().max_connections = 3;
    testing::TestClient client(app, quiet());  // its own keep-alive connection is one of the 3
    ASSERT_EQ(client.get("/").status, 200);
    std::vector<RawConnection> held;
    for (int i = 0; i < 2; ++i) {
        held.emplace_back(client.port());
        held.back().send(make_request("GET", "/"));
        ASSERT_EQ(held.back().read_response().status, 200);
    }
    // The kernel completes the TCP handshake (the listen queue), but the server does not
    // take the connection: no answer while the three others stay open.
    RawConnection waiting(client.port());
    waiting.send(make_request("GET", "/"));
    EXPECT_THROW(waiting.read_response(300ms), std::runtime_error);
    held.pop_back();  // a slot frees
    auto r = waiting.read_response(2s);
    EXPECT_EQ(r.status, 200);
}

TEST(ConnectionLimit, AFloodOfConnectionsIsQueuedNotFatal) {
    App app = make_app();
    app.limits().max_connections = 8;
    testing::TestClient client(app, quiet());
    std::vector<std::optional<RawConnection>> flood;
    for (int i = 0; i < 64; ++i) {
        flood.emplace_back(std::in_place, client.port());
        flood.back()->send(make_request("GET", "/", {{"Connection", "close"}}));
    }
    // Read in order, each connection closed once answered: that frees its slot for the next.
    int answered = 0;
    for (auto& c : flood) {
        try {
            if (c->read_response(10s).status == 200) {
                ++answered;
            }
        } catch (const std::runtime_error&) {
        }
        c.reset();
    }
    EXPECT_EQ(answered, 64);
    EXPECT_EQ(client.get("/").text(), "ok");
}

// --- WebSocket clients that never answer a close ----------------------------------------------

TEST(HostileWebSocket, ClientsThatNeverAnswerACloseAreReleased) {
    App app = make_app();
    app.limits().websocket_close_timeout = 500ms;
    app.websocket_route("/ws", [](WebSocket& ws) -> Task<void> {
        co_await ws.accept();
        co_await ws.close(Code{1000});
    });
    testing::TestClient client(app, quiet());
    ASSERT_EQ(client.get("/").status, 200);
    const std::size_t before = test::open_descriptors(::getpid());

    // 200 clients finish the handshake, get the server's close frame, and never answer it nor
    // close their side: the server must give up on each after websocket_close_timeout.
    constexpr std::size_t clients = 200;
    std::vector<test::RawWebSocket> silent;
    silent.reserve(clients);
    for (std::size_t i = 0; i < clients; ++i) {
        silent.emplace_back(client.port(), "/ws");
    }
    // Meanwhile the server stays responsive.
    for (int i = 0; i < 5; ++i) {
        auto start = std::chrono::steady_clock::now();
        EXPECT_EQ(client.get("/").text(), "ok");
        EXPECT_LT(std::chrono::steady_clock::now() - start, 500ms);
    }
    // Each client's socket stays open on our side; the server's side of every one must close:
    // that is `clients` descriptors fewer than the peak (clients + server sides).
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (test::open_descriptors(::getpid()) > before + clients &&
           std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(50ms);
    }
    EXPECT_LE(test::open_descriptors(::getpid()), before + clients)
        << "the server still holds sockets of clients that never answered its close";
    for (auto& ws : silent) {
        EXPECT_TRUE(ws.wait_closed(1s)) << "the server did not close the TCP connection";
    }
    ExpectStillServingOn(client);
}

// --- Blocking handlers ------------------------------------------------------------------------

TEST(Blocking, RunBlockingKeepsTheThreadServingOthers) {
    App app;
    app.route("/slow", []() -> Task<Response> {
        int answer = co_await run_blocking([] {
            std::this_thread::sleep_for(800ms);  // a synchronous driver, say
            return 42;
        });
        co_return Response::text(std::to_string(answer));
    });
    app.route("/fast", [] { return Response::text("fast"); });
    testing::ClientOptions options = quiet();
    options.threads = 1;  // one I/O thread: blocking it would stall /fast
    testing::TestClient client(app, options);

    auto started = std::chrono::steady_clock::now();
    std::thread slow([&] {
        RawConnection c(client.port());
        c.send(make_request("GET", "/slow"));
        auto r = c.read_response(5s);
        EXPECT_EQ(r.status, 200);
        EXPECT_EQ(r.body, "42");
        EXPECT_GE(std::chrono::steady_clock::now() - started, 800ms);
    });
    std::this_thread::sleep_for(100ms);  // /slow is in the pool now
    for (int i = 0; i < 10; ++i) {
        auto start = std::chrono::steady_clock::now();
        EXPECT_EQ(client.get("/fast").text(), "fast");
        EXPECT_LT(std::chrono::steady_clock::now() - start, 300ms)
            << "a request waited for the blocking call on the same thread";
    }
    EXPECT_LT(std::chrono::steady_clock::now() - started, 800ms)
        << "the fast requests were served only after the slow one";
    slow.join();
}

TEST(Blocking, RunBlockingRethrowsInTheHandler) {
    App app;
    app.route("/caught", []() -> Task<Response> {
        try {
            co_await run_blocking([] { throw std::runtime_error("driver failed"); });
        } catch (const std::runtime_error& e) {
            co_return Response::text(std::string("caught: ") + e.what());
        }
        co_return Response::text("not thrown");
    });
    app.route("/uncaught", []() -> Task<Response> {
        co_await run_blocking([] { throw std::runtime_error("driver failed"); });
        co_return Response::text("not thrown");
    });
    testing::ClientOptions options = quiet();
    options.raise_server_exceptions = false;
    testing::TestClient client(app, options);
    EXPECT_EQ(client.get("/caught").text(), "caught: driver failed");
    EXPECT_EQ(client.get("/uncaught").status, 500);
    EXPECT_EQ(client.get("/caught").status, 200);
}

TEST(AccessLog, ARequestRefusedAfterItsRequestLineIsNamedInTheLog) {
    App app = make_app();
    app.limits().max_body_bytes = 16;
    ServerOptions options;
    options.port = 0;
    options.threads = 1;
    options.handle_signals = false;
    options.print_listening = false;
    options.log_level = LogLevel::info;
    ::testing::internal::CaptureStderr();
    {
        Server server(app, options);
        {
            RawConnection c(server.port());
            c.send("POST /echo?x=1 HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\n");
            EXPECT_EQ(c.read_response().status, 413);
        }
        {
            RawConnection c(server.port());
            c.send("NOT A REQUEST\r\n\r\n");
            EXPECT_EQ(c.read_response().status, 400);
        }
        server.stop();
        server.wait();
    }
    const std::string log = ::testing::internal::GetCapturedStderr();
    EXPECT_NE(log.find("\"POST /echo?x=1 HTTP/1.1\" 413 "), std::string::npos) << log;
    EXPECT_NE(log.find("\"-\" 400 "), std::string::npos) << "no request line to name:\n" << log;
}

TEST(Blocking, AThreadBlockedByAHandlerIsReported) {
    App app;
    app.route("/stall", [] {
        std::this_thread::sleep_for(1500ms);  // blocks the only I/O thread
        return Response::text("late");
    });
    app.route("/", [] { return Response::text("ok"); });
    ServerOptions options;
    options.port = 0;
    options.threads = 1;
    options.handle_signals = false;
    options.print_listening = false;
    options.log_level = LogLevel::warn;
    options.stall_warning = 300ms;
    ::testing::internal::CaptureStderr();
    {
        Server server(app, options);
        EXPECT_EQ(test::http_get(server.port(), "/stall").body, "late");
        std::this_thread::sleep_for(400ms);  // the watchdog sees the loop run again
        EXPECT_EQ(test::http_get(server.port(), "/").body, "ok");
        server.stop();
        server.wait();
    }
    std::string log = ::testing::internal::GetCapturedStderr();
    EXPECT_NE(log.find("thread 0 has not run its event loop for"), std::string::npos) << log;
    EXPECT_NE(log.find("run_blocking"), std::string::npos) << log;
    EXPECT_NE(log.find("thread 0 runs its event loop again"), std::string::npos) << log;
    // A quick handler is not reported (a wider threshold: sanitizers on a busy machine).
    options.stall_warning = 1000ms;
    ::testing::internal::CaptureStderr();
    {
        Server server(app, options);
        for (int i = 0; i < 20; ++i) {
            EXPECT_EQ(test::http_get(server.port(), "/").body, "ok");
        }
        std::this_thread::sleep_for(600ms);
    }
    log = ::testing::internal::GetCapturedStderr();
    EXPECT_EQ(log.find("has not run its event loop"), std::string::npos) << log;
}

}  // namespace
}  // namespace flamecpp
