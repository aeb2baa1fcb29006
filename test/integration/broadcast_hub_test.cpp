// The in-process broadcast hub (flamecpp/broadcast.hpp) on a real server with two threads:
// WebSocket rooms fed by the hub while they receive, stream subscribers, publishing from a
// thread of the test's own, message order, subscriber counts, and slow subscribers dropped
// (a stream's queue, a WebSocket's send queue) while the others keep receiving.
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <flamecpp/broadcast.hpp>
#include <flamecpp/flamecpp.hpp>
#include <flamecpp/testing.hpp>
#include <flamecpp/websocket.hpp>

namespace {

using namespace std::chrono_literals;
using flamecpp::Broadcast;
using flamecpp::Data;
using flamecpp::Path;
using flamecpp::Task;
using flamecpp::WebSocket;
using flamecpp::testing::ClientOptions;
using flamecpp::testing::TestClient;
using flamecpp::testing::TimeoutError;
using flamecpp::testing::WebSocketClosed;
using flamecpp::testing::WebSocketTestSession;

/// /ws/{room}: what a client sends goes to the room; what the room says comes to the client.
struct Room : flamecpp::WebSocketEndpoint {
    static constexpr flamecpp::Encoding encoding = flamecpp::Encoding::text;
    flamecpp::Subscription subscription;

    Task<void> on_connect(WebSocket& ws, Path<"room"> room, Broadcast& hub) {
        co_await ws.accept();
        subscription = hub.subscribe(*room, ws);
    }
    void on_receive(WebSocket& ws, Data data, Path<"room"> room, Broadcast& hub) {
        (void)ws;
        hub.publish(*room, std::move(data).str());
    }
};

/// /stream/{room}: a stream subscription forwarded to the client until the room says "stop".
Task<void> stream(WebSocket& ws, Path<"room"> room, Broadcast& hub) {
    co_await ws.accept();
    flamecpp::Subscription subscription = hub.subscribe(*room);
    co_await ws.send_text("subscribed");
    for (;;) {
        std::optional<std::string> message = co_await subscription.receive();
        if (!message || *message == "stop") {
            break;
        }
        co_await ws.send_text(std::move(*message));
    }
    co_await ws.close();
}

/// /slow/{room}: subscribes, then reads nothing until the client says "go".
Task<void> slow(WebSocket& ws, Path<"room"> room, Broadcast& hub) {
    co_await ws.accept();
    flamecpp::Subscription subscription = hub.subscribe(*room);
    co_await ws.send_text("subscribed");
    co_await ws.receive_text();
    std::optional<std::string> message = co_await subscription.receive();
    // Named first: GCC 12 mishandles temporaries in a co_await's operand.
    std::string answer = message                  ? "got " + *message
                         : subscription.dropped() ? std::string("dropped")
                                                  : std::string("ended");
    co_await ws.send_text(std::move(answer));
    co_await ws.close();
}

/// /early/{room}: subscribes before accepting, which is refused.
Task<void> early(WebSocket& ws, Path<"room"> room, Broadcast& hub) {
    std::string outcome = "subscribed";
    try {
        flamecpp::Subscription subscription = hub.subscribe(*room, ws);
    } catch (const std::logic_error& e) {
        outcome = e.what();
    }
    co_await ws.accept();
    co_await ws.send_text(std::move(outcome));
    co_await ws.close();
}

struct HubTest : ::testing::Test {
    std::shared_ptr<Broadcast> hub =
        std::make_shared<Broadcast>(flamecpp::BroadcastOptions{.queue_bytes = 100});
    flamecpp::App app;

    HubTest() {
        app.component(hub);
        app.websocket_route<Room>("/ws/{room}");
        app.websocket_route("/stream/{room}", stream);
        app.websocket_route("/slow/{room}", slow);
        app.websocket_route("/early/{room}", early);
    }

    /// Waits until `room` has `count` subscribers (subscribing is part of on_connect).
    void wait_for(std::string_view room, std::size_t count) {
        const auto deadline = std::chrono::steady_clock::now() + 5s;
        while (hub->subscribers(room) != count && std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(5ms);
        }
        ASSERT_EQ(hub->subscribers(room), count);
    }
};

TEST_F(HubTest, EveryClientOfARoomGetsEachMessageOnceAndOtherRoomsNothing) {
    TestClient client(app, ClientOptions{.threads = 2});
    std::vector<WebSocketTestSession> a;
    for (int i = 0; i < 8; ++i) {  // spread over both threads by the kernel
        a.push_back(client.websocket_connect("/ws/a"));
    }
    WebSocketTestSession b = client.websocket_connect("/ws/b");
    wait_for("a", 8);
    wait_for("b", 1);

    a[3].send_text("hello");
    for (auto& ws : a) {
        EXPECT_EQ(ws.receive_text(), "hello");
    }
    EXPECT_THROW(b.receive_text(300ms), TimeoutError) << "room b heard room a";
    for (auto& ws : a) {
        EXPECT_THROW(ws.receive_text(50ms), TimeoutError) << "a message came twice";
    }
}

TEST_F(HubTest, AThreadOfYourOwnPublishesAndOneSendersOrderHolds) {
    TestClient client(app, ClientOptions{.threads = 2});
    std::vector<WebSocketTestSession> a;
    for (int i = 0; i < 4; ++i) {
        a.push_back(client.websocket_connect("/ws/a"));
    }
    wait_for("a", 4);
    std::thread([this] { hub->publish("a", "from outside"); }).join();
    for (auto& ws : a) {
        EXPECT_EQ(ws.receive_text(), "from outside");
    }
    for (int i = 0; i < 100; ++i) {
        a[0].send_text(std::to_string(i));
    }
    for (auto& ws : a) {
        for (int i = 0; i < 100; ++i) {
            ASSERT_EQ(ws.receive_text(), std::to_string(i));
        }
    }
}

TEST_F(HubTest, SubscribersFollowTheConnections) {
    TestClient client(app, ClientOptions{.threads = 2});
    std::vector<WebSocketTestSession> a;
    for (int i = 0; i < 5; ++i) {
        a.push_back(client.websocket_connect("/ws/a"));
    }
    wait_for("a", 5);
    a[0].close();
    a[1].close();
    wait_for("a", 3);
    a.clear();
    wait_for("a", 0);
    hub->publish("a", "nobody listens");  // a channel without subscribers: nothing happens
    EXPECT_THROW((void)hub->subscribe("a"), std::logic_error) << "not on a server thread";
}

TEST_F(HubTest, AStreamSubscriberReceivesWhatIsPublished) {
    TestClient client(app, ClientOptions{.threads = 2});
    WebSocketTestSession ws = client.websocket_connect("/stream/s");
    EXPECT_EQ(ws.receive_text(), "subscribed");
    hub->publish("s", "one");
    hub->publish("s", "two");
    hub->publish("s", "stop");
    EXPECT_EQ(ws.receive_text(), "one");
    EXPECT_EQ(ws.receive_text(), "two");
    EXPECT_THROW(ws.receive_text(), WebSocketClosed);
    wait_for("s", 0);
}

TEST_F(HubTest, ASlowStreamIsDroppedAndTheOthersKeepReceiving) {
    TestClient client(app, ClientOptions{.threads = 2});
    WebSocketTestSession slow_ws = client.websocket_connect("/slow/r");
    EXPECT_EQ(slow_ws.receive_text(), "subscribed");
    WebSocketTestSession fast = client.websocket_connect("/ws/r");
    wait_for("r", 2);
    const std::string message(60, 'm');
    for (int i = 0; i < 3; ++i) {  // 180 bytes for a 100-byte queue
        hub->publish("r", message);
    }
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(fast.receive_text(), message);
    }
    wait_for("r", 1);  // the slow one is out
    slow_ws.send_text("go");
    EXPECT_EQ(slow_ws.receive_text(), "dropped");
}

TEST_F(HubTest, AWebSocketThatStopsReadingIsClosedWith1008) {
    app.limits().websocket_send_queue_bytes = 64 * 1024;
    // The 1008 close frame waits behind what fills the stalled client's socket buffers: it
    // arrives only once the client reads them, which it starts below as soon as the hub has
    // dropped it. The timeout is for a slow (sanitized) client to get there.
    app.limits().websocket_close_timeout = 5s;
    TestClient client(app, ClientOptions{.threads = 2});
    WebSocketTestSession stalled = client.websocket_connect("/ws/q");
    WebSocketTestSession fast = client.websocket_connect("/ws/q");
    wait_for("q", 2);
    const std::string chunk(64 * 1024, 'c');
    // More than the socket buffers and the 64 KiB queue hold: the stalled client's queue
    // fills, the fast one reads everything.
    int published = 0;
    for (; published < 400 && hub->subscribers("q") == 2; ++published) {
        hub->publish("q", chunk);
        ASSERT_EQ(fast.receive_text(), chunk) << "message " << published;
    }
    ASSERT_LT(published, 400) << "the stalled client was never dropped";
    wait_for("q", 1);
    int received = 0;
    try {
        for (;;) {
            (void)stalled.receive_text();
            ++received;
        }
    } catch (const WebSocketClosed& closed) {
        EXPECT_EQ(stalled.close_code(), 1008) << closed.what();
    }
    EXPECT_LT(received, published);
}

TEST_F(HubTest, AWebSocketIsSubscribedOnlyOnceAccepted) {
    TestClient client(app);
    WebSocketTestSession ws = client.websocket_connect("/early/e");
    EXPECT_EQ(ws.receive_text(),
              "flamecpp: Broadcast::subscribe(channel, ws) needs an accepted WebSocket: "
              "co_await ws.accept() first");
    EXPECT_EQ(hub->subscribers("e"), 0U);
}

TEST_F(HubTest, TheShutdownEndsAStreamSubscriberThatWaits) {
    // The client below does not read, so the server's 1001 close waits for its answer this
    // long; a handler stuck in receive() would hold the drain for shutdown_grace (10 s).
    app.limits().websocket_close_timeout = 300ms;
    std::optional<TestClient> client(std::in_place, app, ClientOptions{.threads = 2});
    WebSocketTestSession ws = client->websocket_connect("/stream/w");
    EXPECT_EQ(ws.receive_text(), "subscribed");
    const auto since = std::chrono::steady_clock::now();
    client.reset();  // the server stops: the handler waiting in receive() must not hold it
    EXPECT_LT(std::chrono::steady_clock::now() - since, 3s)
        << "the shutdown waited for a handler parked in Subscription::receive()";
    EXPECT_EQ(hub->subscribers("w"), 0U);
}

}  // namespace
