// WebSocket concurrency: a hundred clients at once, sends from two tasks of one connection
// (never interleaved, also with the socket buffers full), a spawned task sending while the
// handler receives, and sends from other worker threads, from threads outside the server, and
// on stored handles after their connection or the server is gone.
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <latch>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include <gtest/gtest.h>

#include <flamecpp/websocket.hpp>

#include "run.hpp"
#include "websocket_fixture.hpp"
#include "ws_client.hpp"

namespace flamecpp::wstest {
namespace {

// ---------------------------------------------------------------------------------------------
// Concurrency.

TEST_F(WebSocketTest, HundredConcurrentClientsTenMessagesEach) {
    constexpr int kThreads = 4;
    constexpr int kClientsPerThread = 25;
    constexpr int kMessages = 10;
    std::latch all_connected(kThreads);
    std::atomic<int> echoed{0};
    std::mutex failures_mutex;
    std::vector<std::string> failures;
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            try {
                std::vector<WsClient> clients(kClientsPerThread);
                for (auto& c : clients) c.connect(port(), "/echo");
                all_connected.arrive_and_wait();  // 100 connections open at once
                for (int m = 0; m < kMessages; ++m) {
                    for (int i = 0; i < kClientsPerThread; ++i) {
                        const std::string text =
                            std::to_string(t) + "/" + std::to_string(i) + "/" + std::to_string(m);
                        if (m % 2 == 0) {
                            clients[i].send_text(text);
                        } else {
                            clients[i].send_binary(text);
                        }
                    }
                    for (int i = 0; i < kClientsPerThread; ++i) {
                        const std::string text =
                            std::to_string(t) + "/" + std::to_string(i) + "/" + std::to_string(m);
                        const WsEvent expected = m % 2 == 0 ? ws_text(text) : ws_binary(text);
                        if (clients[i].receive() == expected)
                            ++echoed;
                    }
                }
                for (auto& c : clients) c.close(1000);
            } catch (const std::exception& e) {
                std::lock_guard lock(failures_mutex);
                failures.emplace_back(e.what());
            }
        });
    }
    for (auto& t : threads) t.join();
    std::string all_failures;
    for (const auto& f : failures) all_failures += f + "\n";
    EXPECT_TRUE(failures.empty()) << all_failures;
    EXPECT_EQ(echoed.load(), kThreads * kClientsPerThread * kMessages);
}

// Asks /fn/burst for `count` messages of `size` bytes from each of its two sending tasks,
// waits `before_reading`, then expects each task's messages whole, in order, of the right
// frame type, and never interleaved with the other task's.
void ExpectBurstArrivesWhole(WsClient& c,
                             int count,
                             std::size_t size,
                             std::chrono::milliseconds before_reading) {
    c.send_text(std::to_string(count) + " " + std::to_string(size));
    std::this_thread::sleep_for(before_reading);
    int next_a = 0;
    int next_b = 0;
    for (int i = 0; i < 2 * count; ++i) {
        const WsEvent event = c.receive();
        const auto* message = std::get_if<WsMessage>(&event);
        ASSERT_NE(message, nullptr) << "message #" << i << ": " << event;
        ASSERT_FALSE(message->data.empty());
        const char tag = message->data.front();
        ASSERT_TRUE(tag == 'A' || tag == 'B') << "message #" << i << ": " << event;
        int& next = tag == 'A' ? next_a : next_b;
        ASSERT_EQ(message->binary, tag == 'B') << "message #" << i << " has the wrong frame type";
        ASSERT_EQ(message->data, burst_message(tag, next, size))
            << "message #" << i << " is mangled";
        ++next;
    }
    EXPECT_EQ(next_a, count);
    EXPECT_EQ(next_b, count);
    EXPECT_EQ(c.receive(), ws_text("done"));
}

TEST_F(WebSocketTest, SendsFromTwoTasksNeverInterleave) {
    WsClient c = Connect("/fn/burst");
    ExpectBurstArrivesWhole(c, 20, kBurstPayload, 0ms);
}

// The server writes a frame with one non-blocking send and waits for the socket only for
// what the kernel did not take. With the client not reading, the socket buffers fill: frames
// are cut anywhere, in the header, in a copied payload or in a gathered one, and two writers
// queue behind the one that waits. Every message must still arrive whole and in order.
TEST_F(WebSocketTest, GatheredFramesFillingTheSocketBuffersArriveWhole) {
    WsClient c = Connect("/fn/burst");
    ExpectBurstArrivesWhole(c, 100, kBurstPayload, 300ms);  // 9.6 MB
}

TEST_F(WebSocketTest, CopiedFramesFillingTheSocketBuffersArriveWhole) {
    WsClient c = Connect("/fn/burst");
    ExpectBurstArrivesWhole(c, 40000, 120, 300ms);  // 9.6 MB in frames of 122 bytes
}

TEST_F(WebSocketTest, SpawnedTaskSendsWhileHandlerReceives) {
    WsClient c = Connect("/fn/ticker");
    int ticks = 0;
    int echoes = 0;
    int sent = 0;
    while (ticks < 50 || echoes < 20) {
        if (sent < 20) {
            c.send_text(std::to_string(sent));
            ++sent;
        }
        const WsEvent event = c.receive();
        const auto* message = std::get_if<WsMessage>(&event);
        ASSERT_NE(message, nullptr) << event;
        if (message->data.rfind("tick ", 0) == 0) {
            EXPECT_EQ(message->data, "tick " + std::to_string(ticks));
            ++ticks;
        } else {
            EXPECT_EQ(message->data, "echo " + std::to_string(echoes));
            ++echoes;
        }
    }
    EXPECT_EQ(ticks, 50);
    EXPECT_EQ(echoes, 20);
    EXPECT_FALSE(journal().wait("ticker", 0ms).has_value()) << *journal().wait("ticker", 0ms);
}

// Opens relay connections until one lands on another worker thread than `thread_of_a`.
std::optional<std::pair<WsClient, std::string>> RelayOnAnotherThread(std::uint16_t port,
                                                                     const std::string& other) {
    for (int i = 0; i < 24; ++i) {
        WsClient c;
        c.connect(port, "/fn/relay?name=b" + std::to_string(i));
        const WsEvent hello = c.receive();
        if (hello != ws_text(other))
            return std::make_pair(std::move(c), "b" + std::to_string(i));
    }
    return std::nullopt;
}

TEST_F(WebSocketTest, SendToConnectionOwnedByAnotherWorkerThread) {
    WsClient a = Connect("/fn/relay?name=a");
    const WsEvent hello_a = a.receive();
    ASSERT_TRUE(std::holds_alternative<WsMessage>(hello_a)) << hello_a;
    auto found = RelayOnAnotherThread(port(), std::get<WsMessage>(hello_a).data);
    ASSERT_TRUE(found.has_value()) << "24 connections all landed on a's worker thread";
    WsClient& b = found->first;
    const std::string b_name = found->second;

    b.send_text("to a hello from b");
    EXPECT_EQ(b.receive(), ws_text("sent"));
    EXPECT_EQ(a.receive(), ws_text("hello from b"));

    // Both at once: each connection gets its own acks and the other's messages, from two
    // threads, whole and in order.
    constexpr int kEach = 50;
    const auto talk = [](WsClient& self, const std::string& peer, const std::string& tag) {
        for (int i = 0; i < kEach; ++i)
            self.send_text("to " + peer + " " + tag + std::to_string(i));
        int acks = 0;
        int received = 0;
        while (acks < kEach || received < kEach) {
            const WsEvent event = self.receive();
            const auto* message = std::get_if<WsMessage>(&event);
            if (message == nullptr) {
                ADD_FAILURE() << event;
                return;
            }
            if (message->data == "sent") {
                ++acks;
            } else {
                EXPECT_EQ(message->data, (tag == "x" ? "y" : "x") + std::to_string(received));
                ++received;
            }
        }
    };
    std::thread from_b([&] { talk(b, "a", "y"); });
    talk(a, b_name, "x");
    from_b.join();
}

TEST_F(WebSocketTest, SendFromAThreadOutsideTheServer) {
    WsClient a = Connect("/fn/relay?name=outside");
    ASSERT_TRUE(std::holds_alternative<WsMessage>(a.receive()));
    std::optional<WebSocket> handle = find_peer("outside");
    ASSERT_TRUE(handle.has_value());
    EXPECT_EQ(handle->state(), WebSocket::State::connected);
    std::thread sender([handle]() mutable {
        for (int i = 0; i < 10; ++i)
            test::run(handle->send_text("from outside " + std::to_string(i)));
    });
    sender.join();
    for (int i = 0; i < 10; ++i)
        EXPECT_EQ(a.receive(), ws_text("from outside " + std::to_string(i)));
}

TEST_F(WebSocketTest, SendOnAStoredHandleAfterItsConnectionClosedThrowsDisconnect) {
    WsClient a = Connect("/fn/relay?name=leaver");
    ASSERT_TRUE(std::holds_alternative<WsMessage>(a.receive()));
    WsClient b = Connect("/fn/relay?name=stayer");
    ASSERT_TRUE(std::holds_alternative<WsMessage>(b.receive()));
    EXPECT_EQ(a.close(1000), (WsClosed{1000, {}}));
    ASSERT_EQ(journal().wait("relay-ended:leaver").value_or("<not recorded>"), "1000");

    b.send_text("to leaver anyone there?");
    EXPECT_EQ(b.receive(), ws_text("gone"));

    std::optional<WebSocket> handle = find_peer("leaver");
    ASSERT_TRUE(handle.has_value());
    EXPECT_EQ(handle->state(), WebSocket::State::closed);
    EXPECT_EQ(handle->close_code(), Code::normal);
    try {
        test::run(handle->send_text("late"));
        ADD_FAILURE() << "send on a closed connection did not throw";
    } catch (const WebSocketDisconnect& e) {
        EXPECT_EQ(e.code(), Code::normal);
    }
}

// A handle kept past the server's life (a stale entry in an app's registry) stays safe: the
// connection is closed, so sending throws WebSocketDisconnect, and dropping the handle is fine.
TEST_F(WebSocketTest, StoredHandleOutlivingTheServerIsSafe) {
    WsClient a = Connect("/fn/relay?name=outlives");
    ASSERT_TRUE(std::holds_alternative<WsMessage>(a.receive()));
    std::optional<WebSocket> handle = find_peer("outlives");
    ASSERT_TRUE(handle.has_value());
    EXPECT_EQ(a.close(1000).code, 1000);
    ASSERT_EQ(journal().wait("relay-ended:outlives").value_or("<not recorded>"), "1000");
    clear_relay_registry();
    server.reset();  // the handle is now the last owner of the connection
    EXPECT_EQ(handle->state(), WebSocket::State::closed);
    try {
        test::run(handle->send_text("after the server"));
        ADD_FAILURE() << "send after the server is gone did not throw";
    } catch (const WebSocketDisconnect& e) {
        EXPECT_EQ(e.code(), Code::normal);
    }
    handle.reset();
}

}  // namespace
}  // namespace flamecpp::wstest
