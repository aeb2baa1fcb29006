// WebSocket frames from the client: fragments reassembled, pings and pongs, and frames that
// break RFC 6455 (closed with 1002, disturbing no other connection) or carry invalid UTF-8
// text (closed with 1007).
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "websocket_fixture.hpp"
#include "ws_client.hpp"

namespace flamecpp::wstest {
namespace {

// ---------------------------------------------------------------------------------------------
// Hostile frames: protocol errors close with 1002, reported once, and disturb nothing else.

struct Hostile {
    const char* name;
    std::vector<std::string> frames;
};

void PrintTo(const Hostile& h, std::ostream* os) { *os << h.name; }

class HostileFrameTest : public WebSocketTest, public ::testing::WithParamInterface<Hostile> {};

TEST_P(HostileFrameTest, ClosesWith1002) {
    const Hostile& hostile = GetParam();
    WsClient bystander = Connect("/echo");
    const std::string id = std::string("hostile-") + hostile.name;
    RawWebSocket raw(port(), "/ep/raw?id=" + id);
    ASSERT_TRUE(raw.send(ws_frame(op::text, "fine")));
    const std::optional<RawFrame> echoed = raw.read_frame();
    ASSERT_TRUE(echoed.has_value());
    EXPECT_EQ(echoed->payload, "fine");
    for (const std::string& frame : hostile.frames) raw.send(frame);
    EXPECT_EQ(raw.read_close_code(), 1002);
    EXPECT_TRUE(raw.wait_closed()) << "the server kept the TCP connection after 1002";
    bystander.send_text("unaffected");
    EXPECT_EQ(bystander.receive(), ws_text("unaffected"));
    EXPECT_EQ(bystander.close(1000).code, 1000);
    ExpectDisconnectedOnce(id, 1002);
}

INSTANTIATE_TEST_SUITE_P(
    WebSocket,
    HostileFrameTest,
    ::testing::Values(Hostile{"unmasked", {ws_frame(op::text, "hi", true, /*masked=*/false)}},
                      Hostile{"rsv1", {ws_frame(op::text, "hi", true, true, test::kRsv1)}},
                      Hostile{"rsv2", {ws_frame(op::text, "hi", true, true, test::kRsv2)}},
                      Hostile{"rsv3", {ws_frame(op::binary, "hi", true, true, test::kRsv3)}},
                      Hostile{"opcode3", {ws_frame(0x3, "hi")}},
                      Hostile{"opcodeB", {ws_frame(0xB, "")}},
                      Hostile{"ping126", {ws_frame(op::ping, std::string(126, 'p'))}},
                      Hostile{"fragmented_ping", {ws_frame(op::ping, "p", /*fin=*/false)}},
                      Hostile{"lone_continuation", {ws_frame(op::continuation, "x")}},
                      Hostile{"new_message_inside_fragmented",
                              {ws_frame(op::text, "a", false), ws_frame(op::text, "b", true)}},
                      Hostile{"close_payload_of_one_byte", {ws_frame(op::close, "\x03")}},
                      Hostile{"close_code_999", {ws_frame(op::close, test::close_payload(999))}}),
    [](const ::testing::TestParamInfo<Hostile>& p) { return std::string(p.param.name); });

// ---------------------------------------------------------------------------------------------
// Invalid UTF-8 in text messages: 1007.

TEST_F(WebSocketTest, InvalidUtf8TextClosesWith1007) {
    RawWebSocket raw(port(), "/ep/raw?id=utf8");
    ASSERT_TRUE(raw.send(ws_frame(op::text, "abc\xff\xfe")));
    EXPECT_EQ(raw.read_close_code(), 1007);
    ExpectDisconnectedOnce("utf8", 1007);
}

TEST_F(WebSocketTest, InvalidUtf8SplitAcrossFragmentsClosesWith1007) {
    RawWebSocket raw(port(), "/ep/raw?id=utf8-fragments");
    ASSERT_TRUE(raw.send(ws_frame(op::text, "caf\xC3", false)));
    raw.send(ws_frame(op::continuation, "(", true));  // not a continuation byte
    EXPECT_EQ(raw.read_close_code(), 1007);
    ExpectDisconnectedOnce("utf8-fragments", 1007);
}

// ---------------------------------------------------------------------------------------------
// Fragments and control frames.

TEST_F(WebSocketTest, FragmentedMessagesAreReassembled) {
    RawWebSocket raw(port(), "/ep/raw?id=fragments");
    raw.send(ws_frame(op::text, "Hel", false));
    raw.send(ws_frame(op::continuation, "lo, ", false));
    raw.send(ws_frame(op::continuation, "caf\xC3", false));  // a character split in two
    raw.send(ws_frame(op::continuation, "\xA9", true));
    std::optional<RawFrame> frame = raw.read_frame();
    ASSERT_TRUE(frame.has_value());
    EXPECT_EQ(frame->opcode, op::text);
    EXPECT_TRUE(frame->fin);
    EXPECT_FALSE(frame->masked) << "server frames must not be masked";
    EXPECT_EQ(frame->payload, "Hello, caf\xC3\xA9");

    raw.send(ws_frame(op::binary, std::string("\x00", 1), false));
    raw.send(ws_frame(op::continuation, "\x01", true));
    frame = raw.read_frame();
    ASSERT_TRUE(frame.has_value());
    EXPECT_EQ(frame->opcode, op::binary);
    EXPECT_EQ(frame->payload, std::string("\x00\x01", 2));
}

TEST_F(WebSocketTest, FragmentsFromTheBeastClientAreReassembled) {
    WsClient c = Connect("/echo");
    c.send_fragment("one ", false, false);
    c.send_fragment("two ", false, false);
    c.send_fragment("three", false, true);
    EXPECT_EQ(c.receive(), ws_text("one two three"));
}

TEST_F(WebSocketTest, PingIsAnsweredWithPong) {
    RawWebSocket raw(port(), "/ep/raw?id=ping");
    raw.send(ws_frame(op::ping, "are you there"));
    const std::optional<RawFrame> pong = raw.read_frame();
    ASSERT_TRUE(pong.has_value());
    EXPECT_EQ(pong->opcode, op::pong);
    EXPECT_TRUE(pong->fin);
    EXPECT_EQ(pong->payload, "are you there");
}

TEST_F(WebSocketTest, PingBetweenFragmentsIsAnsweredAndMessageKept) {
    RawWebSocket raw(port(), "/ep/raw?id=ping-inside");
    raw.send(ws_frame(op::text, "Hel", false));
    raw.send(ws_frame(op::ping, "mid"));
    raw.send(ws_frame(op::continuation, "lo", true));
    const std::optional<RawFrame> pong = raw.read_frame();
    ASSERT_TRUE(pong.has_value());
    EXPECT_EQ(pong->opcode, op::pong);
    EXPECT_EQ(pong->payload, "mid");
    const std::optional<RawFrame> message = raw.read_frame();
    ASSERT_TRUE(message.has_value());
    EXPECT_EQ(message->opcode, op::text);
    EXPECT_EQ(message->payload, "Hello");
}

TEST_F(WebSocketTest, UnsolicitedPongIsIgnored) {
    RawWebSocket raw(port(), "/ep/raw?id=pong");
    raw.send(ws_frame(op::pong, "unsolicited"));
    raw.send(ws_frame(op::text, "after"));
    const std::optional<RawFrame> frame = raw.read_frame();
    ASSERT_TRUE(frame.has_value());
    EXPECT_EQ(frame->opcode, op::text);
    EXPECT_EQ(frame->payload, "after");
}

TEST_F(WebSocketTest, BeastClientSeesPong) {
    WsClient c = Connect("/echo");
    c.ping("p1");
    c.send_text("after ping");
    EXPECT_EQ(c.receive(), ws_text("after ping"));
    EXPECT_EQ(c.pongs(), std::vector<std::string>{"p1"});
}

}  // namespace
}  // namespace flamecpp::wstest
