// WebSocketEndpoint classes and their encodings (none, text, bytes, JSON): what each accepts,
// the 1003 or 1011 it closes with otherwise, and the one on_disconnect call that reports every
// close with the code that went on the wire.
#include <string>

#include <gtest/gtest.h>

#include "websocket_fixture.hpp"
#include "ws_client.hpp"

namespace flamecpp::wstest {
namespace {

// ---------------------------------------------------------------------------------------------
// Endpoint classes and their encodings. Every close is also reported to on_disconnect, once,
// with the code that went on the wire.

TEST_F(WebSocketTest, EndpointWithoutEncodingKeepsFrameTypes) {
    WsClient c = Connect("/ep/raw?id=raw");
    c.send_text("text");
    EXPECT_EQ(c.receive(), ws_text("text"));
    c.send_binary("\x80\x81");
    EXPECT_EQ(c.receive(), ws_binary("\x80\x81"));
    EXPECT_EQ(c.close(1000), (WsClosed{1000, {}}));
    ExpectDisconnectedOnce("raw", 1000);
}

TEST_F(WebSocketTest, TextEndpointClosesOnBinaryWith1003) {
    WsClient c = Connect("/ep/text?id=text");
    c.send_text("caf\xC3\xA9");
    EXPECT_EQ(c.receive(), ws_text("text: caf\xC3\xA9"));
    c.send_binary("x");
    EXPECT_EQ(c.receive(), ws_closed(1003));
    ExpectDisconnectedOnce("text", 1003);
}

TEST_F(WebSocketTest, BytesEndpointClosesOnTextWith1003) {
    WsClient c = Connect("/ep/bytes?id=bytes");
    c.send_binary(std::string("\x00\xfe", 2));
    EXPECT_EQ(c.receive(), ws_binary(std::string("bytes: \x00\xfe", 9)));
    c.send_text("x");
    EXPECT_EQ(c.receive(), ws_closed(1003));
    ExpectDisconnectedOnce("bytes", 1003);
}

TEST_F(WebSocketTest, JsonEndpointAnswersParsedValue) {
    WsClient c = Connect("/ep/json?id=json");
    c.send_text(R"({"name": "x", "n": [1, 2.5, null, true]})");
    ExpectJsonText(c.receive(), R"({"got":{"name":"x","n":[1,2.5,null,true]}})");
    c.send_text("42");
    ExpectJsonText(c.receive(), R"({"got":42})");
}

TEST_F(WebSocketTest, JsonEndpointTakesJsonInUtf8BinaryFrame) {
    WsClient c = Connect("/ep/json?id=json-binary");
    c.send_binary("[\"caf\xC3\xA9\"]");
    ExpectJsonText(c.receive(), "{\"got\":[\"caf\xC3\xA9\"]}");
}

TEST_F(WebSocketTest, JsonEndpointClosesOnNonJsonTextWith1003) {
    WsClient c = Connect("/ep/json?id=json-bad");
    c.send_text("{not json");
    EXPECT_EQ(c.receive(), ws_closed(1003));
    ExpectDisconnectedOnce("json-bad", 1003);
}

TEST_F(WebSocketTest, JsonEndpointClosesOnNonUtf8BinaryWith1003) {
    WsClient c = Connect("/ep/json?id=json-latin1");
    c.send_binary("\"caf\xE9\"");  // a JSON string, but Latin-1, not UTF-8
    EXPECT_EQ(c.receive(), ws_closed(1003));
    ExpectDisconnectedOnce("json-latin1", 1003);
}

TEST_F(WebSocketTest, EndpointThatThrowsClosesWith1011AndReportsIt) {
    WsClient c = Connect("/ep/throws?id=throws");
    c.send_text("x");
    EXPECT_EQ(c.receive(), ws_closed(1011));
    ExpectStillServing();
    ExpectDisconnectedOnce("throws", 1011);
}

}  // namespace
}  // namespace flamecpp::wstest
