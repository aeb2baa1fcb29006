// WebSocket function views (websocket_fixture.hpp): views called per message with Data and
// their encodings, views that own the conversation, and what a view sees when it misuses its
// WebSocket or its client disconnects.
#include <cstddef>
#include <string>

#include <gtest/gtest.h>

#include "websocket_fixture.hpp"
#include "ws_client.hpp"

namespace flamecpp::wstest {
namespace {

// ---------------------------------------------------------------------------------------------
// Function views.

TEST_F(WebSocketTest, DataViewEchoesTextAndBinaryWithTheirFrameType) {
    WsClient c = Connect("/echo");
    c.send_text("hello");
    EXPECT_EQ(c.receive(), ws_text("hello"));
    c.send_binary(std::string("\x00\x01\xff", 3));
    EXPECT_EQ(c.receive(), ws_binary(std::string("\x00\x01\xff", 3)));
    c.send_text("");
    EXPECT_EQ(c.receive(), ws_text(""));
    EXPECT_EQ(c.close(1000), (WsClosed{1000, {}}));
}

// Small frames go out as one copied buffer, larger ones as a gather write of header and
// payload; each length form (7-bit, 16-bit, 64-bit) on both sides of every boundary.
TEST_F(WebSocketTest, EchoesEveryPayloadLengthFormAcrossTheCopyBoundary) {
    WsClient c = Connect("/echo");
    for (std::size_t size : {0, 1, 125, 126, 127, 239, 240, 241, 242, 1000, 65535, 65536, 70001}) {
        std::string payload(size, '\0');
        for (std::size_t i = 0; i < size; ++i) {
            payload[i] = static_cast<char>('a' + (i * 7 + size) % 26);
        }
        c.send_text(payload);
        EXPECT_EQ(c.receive(), ws_text(payload)) << size;
        c.send_binary(payload);
        EXPECT_EQ(c.receive(), ws_binary(payload)) << size;
    }
    EXPECT_EQ(c.close(1000), (WsClosed{1000, {}}));
}

TEST_F(WebSocketTest, DataViewGetsMessagesInOrder) {
    WsClient c = Connect("/echo");
    for (int i = 0; i < 50; ++i) c.send_text("m" + std::to_string(i));
    for (int i = 0; i < 50; ++i) EXPECT_EQ(c.receive(), ws_text("m" + std::to_string(i)));
}

TEST_F(WebSocketTest, OwningViewIsClosedWith1000WhenItReturns) {
    WsClient c = Connect("/fn/own");
    c.send_text("alice");
    EXPECT_EQ(c.receive(), ws_text("bye alice"));
    EXPECT_EQ(c.receive(), ws_closed(1000));
}

TEST_F(WebSocketTest, TextEncodingViewTakesTextAndClosesOnBinaryWith1003) {
    WsClient c = Connect("/fn/text");
    c.send_text("hi");
    EXPECT_EQ(c.receive(), ws_text("text: hi"));
    c.send_binary("hi");
    EXPECT_EQ(c.receive(), ws_closed(1003));
}

TEST_F(WebSocketTest, BytesEncodingViewTakesBinaryAndClosesOnTextWith1003) {
    WsClient c = Connect("/fn/bytes");
    c.send_binary("hi");
    EXPECT_EQ(c.receive(), ws_binary("bytes: hi"));
    c.send_text("hi");
    EXPECT_EQ(c.receive(), ws_closed(1003));
}

TEST_F(WebSocketTest, JsonEncodingViewParsesAndClosesOnNonJsonWith1003) {
    WsClient c = Connect("/fn/json");
    c.send_text(R"({"a": [1, 2.5]})");
    ExpectJsonText(c.receive(), R"({"got":{"a":[1,2.5]}})");
    c.send_text("not json");
    EXPECT_EQ(c.receive(), ws_closed(1003));
}

TEST_F(WebSocketTest, PlainViewThatThrowsClosesWith1011) {
    WsClient c = Connect("/fn/throws");
    c.send_text("x");
    EXPECT_EQ(c.receive(), ws_closed(1011));
    ExpectStillServing();
}

TEST_F(WebSocketTest, OwningViewThatNeitherAcceptsNorClosesIsRefusedWith403) {
    try {
        Connect("/fn/ignore");
        FAIL() << "the handshake succeeded";
    } catch (const HandshakeRejected& e) {
        EXPECT_EQ(e.status, 403) << e.what();
    }
    ExpectStillServing();
}

// ---------------------------------------------------------------------------------------------
// Misuse and disconnects as handlers see them.

TEST_F(WebSocketTest, MisuseThrowsLogicErrorOrWebSocketDisconnect) {
    WsClient c = Connect("/fn/misuse");
    EXPECT_EQ(c.receive(), ws_text("send-before-accept:logic_error;"
                                   "receive-before-accept:logic_error;"
                                   "state:connecting;"
                                   "accept-twice:logic_error;"));
    c.send_text("close now");
    const WsEvent closed = c.receive();
    EXPECT_EQ(closed, ws_closed(1000));
    EXPECT_EQ(journal().wait("send-after-close").value_or("<not recorded>"),
              "WebSocketDisconnect 1000");
    EXPECT_EQ(journal().wait("receive-after-close").value_or("<not recorded>"),
              "WebSocketDisconnect 1000");
    EXPECT_EQ(journal().wait("close-code").value_or("<not recorded>"), "1000");
}

TEST_F(WebSocketTest, ReceiveAfterDisconnectThrowsAgainWithTheSameCode) {
    WsClient c = Connect("/fn/until-disconnect?id=again");
    c.send_text("x");
    EXPECT_EQ(c.receive(), ws_text("got x"));
    EXPECT_EQ(c.close(4002), (WsClosed{4002, {}}));
    EXPECT_EQ(journal().wait("first:again").value_or("<not recorded>"), "4002");
    EXPECT_EQ(journal().wait("second:again").value_or("<not recorded>"), "4002");
    EXPECT_EQ(journal().wait("state:again").value_or("<not recorded>"), "closed");
}

TEST_F(WebSocketTest, ReceiveAfterAbruptDisconnectCarries1006) {
    WsClient c = Connect("/fn/until-disconnect?id=abrupt-fn");
    c.send_text("x");
    EXPECT_EQ(c.receive(), ws_text("got x"));
    c.drop();
    EXPECT_EQ(journal().wait("first:abrupt-fn").value_or("<not recorded>"), "1006");
    EXPECT_EQ(journal().wait("second:abrupt-fn").value_or("<not recorded>"), "1006");
}

}  // namespace
}  // namespace flamecpp::wstest
