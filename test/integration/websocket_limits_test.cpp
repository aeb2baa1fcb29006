// WebSocket limits (Limits in <flamecpp/app.hpp>): the idle timeout, closing with 1001, and
// the message size limit (1 MiB by default, whole or fragmented), closing with 1009.
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
    Restart([](Limits& limits) { limits.websocket_idle_timeout = 300ms; });
    WsClient c = Connect("/ep/raw?id=idle");
    const auto since = std::chrono::steady_clock::now();
    EXPECT_EQ(c.receive(), ws_closed(1001));
    const auto idle = std::chrono::steady_clock::now() - since;
    EXPECT_GE(idle, 250ms);
    EXPECT_LT(idle, 3s);
    ExpectDisconnectedOnce("idle", 1001);
}

TEST_F(WebSocketTest, MessagesKeepAConnectionFromIdling) {
    Restart([](Limits& limits) { limits.websocket_idle_timeout = 400ms; });
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
