// WebSocket limits (Limits in <flamecpp/app.hpp>): the idle timeout, closing with 1001, the
// server's pings (a silent client that answers stays, one that does not is closed with 1011),
// and the message size limit (1 MiB by default, whole or fragmented), closing with 1009.
#include <chrono>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include <flamecpp/app.hpp>

#include "websocket_fixture.hpp"
#include "ws_client.hpp"

namespace flamecpp::wstest {
namespace {

// ---------------------------------------------------------------------------------------------
// The idle timeout.

TEST_F(WebSocketTest, IdleConnectionIsClosedWith1001) {
    Restart([](Limits& limits) {
        limits.websocket_ping_interval = 0ms;  // without pings the idle timeout applies
        limits.websocket_idle_timeout = 300ms;
    });
    WsClient c = Connect("/ep/raw?id=idle");
    const auto since = std::chrono::steady_clock::now();
    EXPECT_EQ(c.receive(), ws_closed(1001));
    const auto idle = std::chrono::steady_clock::now() - since;
    EXPECT_GE(idle, 250ms);
    EXPECT_LT(idle, 3s);
    ExpectDisconnectedOnce("idle", 1001);
}

TEST_F(WebSocketTest, MessagesKeepAConnectionFromIdling) {
    Restart([](Limits& limits) {
        limits.websocket_ping_interval = 0ms;
        limits.websocket_idle_timeout = 400ms;
    });
    WsClient c = Connect("/ep/raw?id=busy");
    const auto since = std::chrono::steady_clock::now();
    for (int i = 0; i < 10; ++i) {  // ~1 s in all, never 400 ms idle
        std::this_thread::sleep_for(100ms);
        c.send_text(std::to_string(i));
        ASSERT_EQ(c.receive(), ws_text(std::to_string(i)));
    }
    EXPECT_GE(std::chrono::steady_clock::now() - since, 900ms);
    EXPECT_EQ(c.receive(), ws_closed(1001));  // idle from here
    ExpectDisconnectedOnce("busy", 1001);
}

// ---------------------------------------------------------------------------------------------
// Pings: a client that only listens stays while it answers them; one that stops is closed.

// Pings every 300 ms of silence, 300 ms to answer, and a short close handshake.
void FastPings(Limits& limits) {
    limits.websocket_ping_interval = 300ms;
    limits.websocket_ping_timeout = 300ms;
    limits.websocket_idle_timeout = 300ms;  // not used while pings are on
    limits.websocket_close_timeout = 300ms;
}

TEST_F(WebSocketTest, ListenOnlyClientThatAnswersPingsStaysConnected) {
    Restart(FastPings);
    RawWebSocket raw(port(), "/ep/raw?id=listener");
    const auto since = std::chrono::steady_clock::now();
    int pings = 0;
    while (std::chrono::steady_clock::now() - since < 2s) {  // many ping intervals, no message
        const std::optional<RawFrame> frame = raw.read_frame(2s);
        ASSERT_TRUE(frame.has_value()) << "the server closed a client that answers its pings";
        ASSERT_EQ(frame->opcode, op::ping) << "only pings while the client is silent";
        ++pings;
        ASSERT_TRUE(raw.send(ws_frame(op::pong, frame->payload)));
    }
    EXPECT_GE(pings, 3);
    EXPECT_LE(pings, 8) << "a ping per interval of silence, not more";
    ASSERT_TRUE(raw.send(ws_frame(op::text, "still here")));
    std::optional<RawFrame> echo = raw.read_frame();
    while (echo && echo->opcode == op::ping) {
        ASSERT_TRUE(raw.send(ws_frame(op::pong, echo->payload)));
        echo = raw.read_frame();
    }
    ASSERT_TRUE(echo.has_value());
    EXPECT_EQ(echo->opcode, op::text);
    EXPECT_EQ(echo->payload, "still here");
}

TEST_F(WebSocketTest, ClientThatStopsAnsweringPingsIsClosedWith1011) {
    Restart(FastPings);
    RawWebSocket raw(port(), "/ep/raw?id=mute");
    const auto since = std::chrono::steady_clock::now();
    const std::optional<RawFrame> ping = raw.read_frame(2s);
    ASSERT_TRUE(ping.has_value());
    EXPECT_EQ(ping->opcode, op::ping);
    // No pong, nothing at all: the next frame is the close, a ping timeout after the ping.
    const std::optional<RawFrame> close = raw.read_frame(3s);
    const auto waited = std::chrono::steady_clock::now() - since;
    ASSERT_TRUE(close.has_value());
    EXPECT_EQ(close->opcode, op::close);
    EXPECT_EQ(close->close_code(), 1011);
    EXPECT_EQ(close->payload.substr(2), "ping timeout");
    EXPECT_GE(waited, 500ms);  // the interval, then the timeout
    EXPECT_LT(waited, 3s);
    EXPECT_TRUE(raw.wait_closed(3s)) << "no close handshake from the client: the socket goes";
    ExpectDisconnectedOnce("mute", 1011);
}

TEST_F(WebSocketTest, AClientsMessagesCountAsAnswers) {
    Restart(FastPings);
    WsClient c = Connect("/ep/raw?id=chatty");
    for (int i = 0; i < 12; ++i) {  // ~1.2 s of messages every 100 ms: never silent for 300
        std::this_thread::sleep_for(100ms);
        c.send_text(std::to_string(i));
        ASSERT_EQ(c.receive(), ws_text(std::to_string(i)));
    }
}

// ---------------------------------------------------------------------------------------------
// The message size limit.

TEST_F(WebSocketTest, MessageOverTheLimitClosesWith1009) {
    Restart([](Limits& limits) { limits.max_websocket_message_bytes = 1024; });
    WsClient c = Connect("/ep/raw?id=too-big");
    c.send_binary(std::string(1024, 'x'));
    EXPECT_EQ(c.receive(), ws_binary(std::string(1024, 'x')));
    c.send_binary(std::string(1025, 'x'));
    EXPECT_EQ(c.receive(), ws_closed(1009));
    ExpectDisconnectedOnce("too-big", 1009);
}

TEST_F(WebSocketTest, FragmentedMessageOverTheLimitClosesWith1009) {
    Restart([](Limits& limits) { limits.max_websocket_message_bytes = 1024; });
    RawWebSocket raw(port(), "/ep/raw?id=too-big-fragmented");
    // Every frame is under the limit; the message is not.
    ASSERT_TRUE(raw.send(ws_frame(op::text, std::string(600, 'a'), false)));
    raw.send(ws_frame(op::continuation, std::string(600, 'b'), true));
    EXPECT_EQ(raw.read_close_code(), 1009);
    ExpectDisconnectedOnce("too-big-fragmented", 1009);
}

TEST_F(WebSocketTest, DefaultLimitIsOneMebibyte) {
    WsClient c = Connect("/ep/raw?id=mib");
    const std::string mib(1024 * 1024, 'm');
    c.send_text(mib);
    EXPECT_EQ(c.receive(), ws_text(mib));
    c.send_text(mib + "!");
    EXPECT_EQ(c.receive(), ws_closed(1009));
    ExpectDisconnectedOnce("mib", 1009);
}

}  // namespace
}  // namespace flamecpp::wstest
