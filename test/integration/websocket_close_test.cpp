// WebSocket close codes as the peer and the handler see them: the peer's own code (echoed),
// 1001 going away, 1005 for an empty close frame, 1006 for an abrupt end, 1001 on server stop,
// and the code reported at once when the peer keeps TCP open after the close handshake or
// stays silent after a 1002.
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <flamecpp/app.hpp>

#include "websocket_fixture.hpp"
#include "ws_client.hpp"

namespace flamecpp::wstest {
namespace {

// ---------------------------------------------------------------------------------------------
// Close codes: the peer's, abrupt ends, shutdown.

TEST_F(WebSocketTest, PeerCloseCodeIsEchoedAndReported) {
    WsClient c = Connect("/ep/raw?id=peer-4001");
    c.send_text("x");
    EXPECT_EQ(c.receive(), ws_text("x"));
    const WsClosed answer = c.close(4001, "see you");
    EXPECT_EQ(answer.code, 4001) << answer.reason;
    ExpectDisconnectedOnce("peer-4001", 4001);
}

TEST_F(WebSocketTest, PeerGoingAwayIsReportedAs1001) {
    WsClient c = Connect("/ep/raw?id=peer-1001");
    EXPECT_EQ(c.close(1001), (WsClosed{1001, {}}));
    ExpectDisconnectedOnce("peer-1001", 1001);
}

TEST_F(WebSocketTest, EmptyCloseFrameIsAnsweredAndReportedAs1005) {
    RawWebSocket raw(port(), "/ep/raw?id=empty-close");
    ASSERT_TRUE(raw.send(ws_frame(op::close, "")));
    const std::optional<RawFrame> answer = raw.read_frame();
    ASSERT_TRUE(answer.has_value()) << "no close frame came back";
    EXPECT_EQ(answer->opcode, op::close);
    EXPECT_TRUE(raw.wait_closed()) << "the server kept the TCP connection";
    raw.drop();  // as a client does once the server has closed
    ExpectDisconnectedOnce("empty-close", 1005);
}

// The close handshake is complete once the server has echoed the peer's close frame: the
// handler learns the peer's code then, whether or not the peer also closes TCP promptly.
TEST_F(WebSocketTest, PeerCloseIsReportedAtOnceEvenIfPeerKeepsTcpOpen) {
    Restart([](Limits& limits) {
        limits.websocket_ping_interval = 0ms;
        limits.websocket_idle_timeout = 300ms;
    });
    RawWebSocket raw(port(), "/ep/raw?id=half-open");
    ASSERT_TRUE(raw.send(ws_frame(op::close, test::close_payload(4005, "bye"))));
    const std::optional<RawFrame> answer = raw.read_frame();
    ASSERT_TRUE(answer.has_value()) << "no close frame came back";
    EXPECT_EQ(answer->opcode, op::close);
    EXPECT_EQ(answer->close_code(), 4005);
    // Do not close TCP: a slow or careless client.
    const auto since = std::chrono::steady_clock::now();
    const auto seen = journal().wait("disconnect:half-open", 8s);
    const auto waited = std::chrono::steady_clock::now() - since;
    ASSERT_TRUE(seen.has_value()) << "on_disconnect did not run within 8 s";
    EXPECT_EQ(*seen, "4005") << "the code on the wire was 4005";
    EXPECT_LT(waited, 2s) << "on_disconnect waited "
                          << std::chrono::duration_cast<std::chrono::milliseconds>(waited).count()
                          << " ms for the client to close TCP";
}

// The same when the server fails the connection: the 1002 that went on the wire is reported.
TEST_F(WebSocketTest, ProtocolErrorIsReportedAs1002EvenIfPeerStaysSilent) {
    Restart([](Limits& limits) {
        limits.websocket_ping_interval = 0ms;
        limits.websocket_idle_timeout = 300ms;
    });
    RawWebSocket raw(port(), "/ep/raw?id=silent-1002");
    ASSERT_TRUE(raw.send(ws_frame(op::text, "unmasked", true, /*masked=*/false)));
    const std::optional<RawFrame> answer = raw.read_frame();
    ASSERT_TRUE(answer.has_value()) << "no close frame came back";
    EXPECT_EQ(answer->close_code(), 1002);
    // No close frame back and no TCP close: the client just goes quiet.
    const auto since = std::chrono::steady_clock::now();
    const auto seen = journal().wait("disconnect:silent-1002", 8s);
    const auto waited = std::chrono::steady_clock::now() - since;
    ASSERT_TRUE(seen.has_value()) << "on_disconnect did not run within 8 s";
    EXPECT_EQ(*seen, "1002") << "the code on the wire was 1002";
    EXPECT_LT(waited, 2s) << "on_disconnect waited "
                          << std::chrono::duration_cast<std::chrono::milliseconds>(waited).count()
                          << " ms for the client to close TCP";
}

TEST_F(WebSocketTest, AbruptDisconnectIsReportedOnceAs1006) {
    WsClient c = Connect("/ep/raw?id=abrupt");
    c.send_text("x");
    EXPECT_EQ(c.receive(), ws_text("x"));
    c.drop();
    ExpectDisconnectedOnce("abrupt", 1006);
}

TEST_F(WebSocketTest, AbruptDisconnectWithoutAnyMessageIsReportedAs1006) {
    WsClient c = Connect("/ep/raw?id=abrupt-silent");
    c.drop();
    ExpectDisconnectedOnce("abrupt-silent", 1006);
}

TEST_F(WebSocketTest, ServerStopClosesOpenWebSocketsWith1001) {
    WsClient a = Connect("/ep/raw?id=stop-a");
    WsClient b = Connect("/ep/text?id=stop-b");
    WsClient f = Connect("/fn/until-disconnect?id=stop-f");
    a.send_text("x");
    ASSERT_EQ(a.receive(), ws_text("x"));
    f.send_text("y");
    ASSERT_EQ(f.receive(), ws_text("got y"));
    const auto since = std::chrono::steady_clock::now();
    server->stop();
    EXPECT_EQ(a.receive(), ws_closed(1001));
    EXPECT_EQ(b.receive(), ws_closed(1001));
    EXPECT_EQ(f.receive(), ws_closed(1001));
    server->wait();
    EXPECT_LT(std::chrono::steady_clock::now() - since, 5s)
        << "the shutdown waited for the grace period with every WebSocket closed";
    for (const char* id : {"stop-a", "stop-b"}) {
        EXPECT_EQ(journal().all(std::string("disconnect:") + id), std::vector<std::string>{"1001"})
            << id;
    }
    EXPECT_EQ(journal().all("first:stop-f"), std::vector<std::string>{"1001"});
}

}  // namespace
}  // namespace flamecpp::wstest
