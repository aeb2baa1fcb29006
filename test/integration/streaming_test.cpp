// Server-sent events and streamed answers on a real server: the event format, keep-alive
// comments, backpressure, and a producer stopped when its client leaves (while it waits and
// while it writes) or when the server shuts down.
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <time.h>

#include <flamecpp/flamecpp.hpp>
#include <flamecpp/testing.hpp>

#include "http_client.hpp"

namespace flamecpp {
namespace {

using namespace std::chrono_literals;
using testing::ClientOptions;
using testing::TestClient;

ClientOptions quiet() { return ClientOptions{.log_level = LogLevel::off}; }

TEST(EventFormat, FieldsAndDataLines) {
    EXPECT_EQ(detail::format_event({.data = "hello"}), "data: hello\n\n");
    EXPECT_EQ(detail::format_event({.data = "a\nb\r\nc\rd",
                                    .event = "note",
                                    .id = "7",
                                    .retry = std::chrono::milliseconds(1500)}),
              "id: 7\nevent: note\nretry: 1500\ndata: a\ndata: b\ndata: c\ndata: d\n\n");
    EXPECT_EQ(detail::format_event({}), "data: \n\n");
    EXPECT_EQ(detail::format_event({.data = "x\n"}), "data: x\ndata: \n\n");
    EXPECT_THROW(detail::format_event({.data = "x", .event = "a\nb"}), std::invalid_argument);
    EXPECT_THROW(detail::format_event({.data = "x", .id = "1\r"}), std::invalid_argument);
    EXPECT_THROW(detail::format_event({.data = "x", .id = std::string("1\0", 2)}),
                 std::invalid_argument);
}

Task<void> three_events(EventSink& events) {
    for (int i = 1; i <= 3; ++i) {
        const ServerSentEvent event{.data = "n=" + std::to_string(i), .id = std::to_string(i)};
        co_await events.send(event);
    }
    co_await events.comment("done");
}

TEST(EventStream, AnswersWithTheEventsAndTheHeaders) {
    App app;
    app.route("/events", [] { return event_stream(three_events); });
    TestClient client(std::move(app), quiet());
    auto r = client.get("/events");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.header("Content-Type"), "text/event-stream");
    EXPECT_EQ(r.header("Cache-Control"), "no-cache");
    EXPECT_EQ(r.header("Transfer-Encoding"), "chunked");
    EXPECT_EQ(r.text(), "id: 1\ndata: n=1\n\nid: 2\ndata: n=2\n\nid: 3\ndata: n=3\n\n: done\n");
}

Task<void> quiet_then_one(EventSink& events) {
    co_await flamecpp::sleep(250ms);
    const ServerSentEvent event{.data = "late"};
    co_await events.send(event);
}

TEST(EventStream, KeepAliveCommentsWhileTheProducerIsQuiet) {
    App app;
    app.route("/events", [] { return event_stream(quiet_then_one, {.keep_alive = 60ms}); });
    TestClient client(std::move(app), quiet());
    auto r = client.get("/events");
    const std::string body = r.text();
    ASSERT_TRUE(body.starts_with(": keep-alive\n")) << body;
    EXPECT_TRUE(body.ends_with("data: late\n\n")) << body;
    std::size_t count = 0;
    for (auto at = body.find(": keep-alive\n"); at != std::string::npos;
         at = body.find(": keep-alive\n", at + 1)) {
        ++count;
    }
    EXPECT_GE(count, 2u) << body;
    EXPECT_LE(count, 4u) << body;
}

TEST(EventStream, LastEventIdIsInjectable) {
    App app;
    app.route("/id", [](LastEventId last) { return last->value_or("none"); });
    TestClient client(std::move(app), quiet());
    EXPECT_EQ(client.get("/id").text(), "none");
    EXPECT_EQ(client.get("/id", {.headers = {{"Last-Event-ID", "41"}}}).text(), "41");
}

/// What the producers below report to the test.
struct Probe {
    std::atomic<int> sent{0};
    std::atomic<bool> ended{false};
    std::atomic<bool> cancelled{false};
};

/// Sends an event every `gap` until cancelled; records how it ended.
Task<void> until_cancelled(std::shared_ptr<Probe> probe,
                           std::chrono::milliseconds gap,
                           EventSink& events) {
    try {
        for (;;) {
            const ServerSentEvent tick{.data = std::to_string(probe->sent.load())};
            co_await events.send(tick);
            ++probe->sent;
            co_await flamecpp::sleep(gap);
        }
    } catch (const boost::system::system_error&) {
        probe->cancelled = true;
    } catch (const std::system_error&) {
        probe->cancelled = true;
    }
    probe->ended = true;
}

/// Sends 64 KiB chunks as fast as the client takes them.
Task<void> flood(std::shared_ptr<Probe> probe, BodyWriter& out) {
    const std::string chunk(64 * 1024, 'x');
    try {
        for (;;) {
            co_await out.write(chunk);
            ++probe->sent;
        }
    } catch (const std::exception&) {
        probe->cancelled = true;
    }
    probe->ended = true;
}

bool WaitFor(const std::atomic<bool>& flag, std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!flag && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(5ms);
    }
    return flag;
}

TEST(EventStream, AClientThatLeavesStopsTheProducerWhileItWaits) {
    auto probe = std::make_shared<Probe>();
    App app;
    // One event, then a wait far longer than the test: only the watch on the connection can
    // notice the client leaving; no write will fail.
    app.route("/events",
              [probe] { return event_stream(std::bind_front(&until_cancelled, probe, 60s)); });
    TestClient client(std::move(app), quiet());
    {
        test::RawConnection c(client.port());
        c.send(test::make_request("GET", "/events"));
        const auto deadline = std::chrono::steady_clock::now() + 2s;
        while (probe->sent < 1 && std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(5ms);
        }
        ASSERT_EQ(probe->sent, 1);
    }  // closed
    EXPECT_TRUE(WaitFor(probe->ended, 500ms)) << "the producer was not stopped";
    EXPECT_TRUE(probe->cancelled);
    // The server goes on.
    EXPECT_EQ(client.get("/nowhere").status, 404);
}

TEST(StreamedBody, BackpressureHoldsTheProducerAndALeavingClientStopsIt) {
    auto probe = std::make_shared<Probe>();
    App app;
    app.route("/flood", [probe] { return Response::stream(std::bind_front(&flood, probe)); });
    TestClient client(std::move(app), quiet());
    {
        test::RawConnection c(client.port());
        c.send(test::make_request("GET", "/flood"));
        std::this_thread::sleep_for(300ms);
        // The client reads nothing: the producer waits once the socket buffers are full
        // (a few MiB at most on loopback), instead of filling the server's memory.
        const int held = probe->sent;
        std::this_thread::sleep_for(200ms);
        EXPECT_EQ(probe->sent, held) << "the producer went on while nobody read";
        EXPECT_LT(held, 1024) << "64 MiB went out to a client that reads nothing";
        EXPECT_FALSE(probe->ended);
    }
    EXPECT_TRUE(WaitFor(probe->ended, 1s)) << "the producer was not stopped";
    EXPECT_EQ(client.get("/nowhere").status, 404);
}

TEST(EventStream, ShutdownEndsOpenStreamsProperly) {
    auto probe = std::make_shared<Probe>();
    App app;
    app.route("/events",
              [probe] { return event_stream(std::bind_front(&until_cancelled, probe, 20ms)); });
    auto client = std::make_unique<TestClient>(std::move(app), quiet());
    test::RawConnection c(client->port());
    c.send(test::make_request("GET", "/events"));
    const auto deadline = std::chrono::steady_clock::now() + 2s;
    while (probe->sent < 1 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(5ms);
    }
    ASSERT_GE(probe->sent, 1);
    const auto asked = std::chrono::steady_clock::now();
    client.reset();  // stops the server: the grace period is not needed
    EXPECT_LT(std::chrono::steady_clock::now() - asked, 2s);
    EXPECT_TRUE(probe->ended);
    // The stream was ended with its last chunk: a complete response.
    const test::Response r = c.read_response(2s);
    EXPECT_EQ(r.status, 200);
    EXPECT_TRUE(r.body.starts_with("data: 0\n\n")) << r.body;
}

Task<void> fails_after_one(EventSink& events) {
    const ServerSentEvent first{.data = "first"};
    co_await events.send(first);
    const ServerSentEvent bad{.data = "x", .id = "line\nbreak"};
    co_await events.send(bad);  // throws std::invalid_argument
}

TEST(EventStream, AProducerThatThrowsEndsTheStreamEvenWithKeepAlive) {
    App app;
    app.route("/events", [] { return event_stream(fails_after_one, {.keep_alive = 20ms}); });
    TestClient client(std::move(app), quiet());
    test::RawConnection c(client.port());
    c.send(test::make_request("GET", "/events"));
    // The connection is cut (no last chunk): the client sees an incomplete body, at once.
    EXPECT_TRUE(c.wait_closed(2s));
    EXPECT_EQ(c.pending().find("0\r\n\r\n"), std::string::npos) << c.pending();
    EXPECT_NE(c.pending().find("data: first"), std::string::npos) << c.pending();
    EXPECT_EQ(c.pending().find("keep-alive"), std::string::npos) << c.pending();
}

Task<void> slow_to_start(EventSink& events) {
    co_await flamecpp::sleep(100ms);
    const std::string big(256 * 1024, 'x');
    for (;;) {
        const ServerSentEvent event{.data = big};
        co_await events.send(event);
    }
}

TEST(EventStream, KeepAliveDoesNotSpinWhileTheClientIsNotReading) {
    App app;
    app.route("/events", [] { return event_stream(slow_to_start, {.keep_alive = 10ms}); });
    TestClient client(std::move(app), quiet());
    test::RawConnection c(client.port());
    c.send(test::make_request("GET", "/events"));
    std::this_thread::sleep_for(300ms);  // the socket fills up; the producer waits
    // The server's threads are idle: a keep-alive spinning would keep a thread busy, a full
    // CPU second per second. The process's own idle cost (a sanitizer's background thread,
    // the test's threads) stays well under half of that.
    timespec before{};
    ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &before);
    std::this_thread::sleep_for(1s);
    timespec after{};
    ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &after);
    const double used =
        double(after.tv_sec - before.tv_sec) + double(after.tv_nsec - before.tv_nsec) / 1e9;
    EXPECT_LT(used, 0.6) << "CPU seconds in one second of waiting";
    EXPECT_EQ(client.get("/nowhere").status, 404);
}

}  // namespace
}  // namespace flamecpp
