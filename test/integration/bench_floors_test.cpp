// The two floors of bench/run (bench/ref/epoll_ref.cpp and bench/ref/asio_ref.cpp) answer
// what the benchmark's cells ask of them, and what their protocol (bench/ref/canned.hpp) says
// of the rest: a floor that answered wrongly would make every ratio against it meaningless.
// Each test runs against both binaries over loopback.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "http_client.hpp"
#include "process.hpp"
#include "ws_client.hpp"

#if !defined(FLAMECPP_EPOLL_REF) || !defined(FLAMECPP_ASIO_REF)
#error "FLAMECPP_EPOLL_REF and FLAMECPP_ASIO_REF must be the paths of the two floors"
#endif

namespace flamecpp::test {
namespace {

class Floor : public ::testing::TestWithParam<const char*> {
protected:
    void SetUp() override {
        server_.emplace(GetParam(), std::vector<std::string>{"0"});
        server_->wait_for_listening();
    }

    std::uint16_t port() const { return server_->port(); }

    std::optional<SampleProcess> server_;
};

/// The answer on `c`, which must have `status`, and then the end of the connection.
void ExpectStatusThenClose(RawConnection& c, int status) {
    EXPECT_EQ(c.read_response().status, status);
    EXPECT_TRUE(c.wait_closed(std::chrono::seconds(5))) << "still open after the " << status;
    EXPECT_EQ(c.pending(), "");
}

/// A connection upgraded to WebSocket by hand, with RFC 6455 1.3's example key.
RawConnection Upgraded(std::uint16_t port) {
    RawConnection c(port);
    c.send(make_request("GET", "/ws",
                        {{"Upgrade", "websocket"},
                         {"Connection", "Upgrade"},
                         {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
                         {"Sec-WebSocket-Version", "13"}}));
    Response r = c.read_response();
    EXPECT_EQ(r.status, 101);
    EXPECT_EQ(r.header("Sec-WebSocket-Accept"), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    return c;
}

TEST_P(Floor, AnswersTheBenchmarksTwoRoutes) {
    Response plain = http_get(port(), "/plaintext");
    EXPECT_EQ(plain.status, 200);
    EXPECT_EQ(plain.body, "Hello, World!");
    EXPECT_EQ(plain.header("Content-Type"), "text/plain");
    EXPECT_TRUE(plain.header("Date").has_value());

    Response json = http_get(port(), "/json");
    EXPECT_EQ(json.status, 200);
    EXPECT_EQ(json.body, R"({"message":"Hello, World!"})");
    EXPECT_EQ(json.header("Content-Type"), "application/json");

    EXPECT_EQ(http_get(port(), "/other").status, 404);
}

TEST_P(Floor, AnswersPipelinedRequestsInOrderOnOneConnection) {
    RawConnection c(port());
    std::string batch;
    for (int i = 0; i < 16; ++i) {
        batch += make_request("GET", i % 2 == 0 ? "/plaintext" : "/json");
    }
    c.send(batch);
    for (int i = 0; i < 16; ++i) {
        Response r = c.read_response();
        EXPECT_EQ(r.status, 200) << "answer " << i;
        EXPECT_EQ(r.body, i % 2 == 0 ? "Hello, World!" : R"({"message":"Hello, World!"})")
            << "answer " << i;
    }
    // The connection stays open for the next batch.
    c.send(make_request("GET", "/plaintext"));
    EXPECT_EQ(c.read_response().status, 200);
}

TEST_P(Floor, RefusesABodyAndClosesTheConnection) {
    RawConnection with_body(port());
    with_body.send(make_request("POST", "/plaintext", {}, "x=1"));
    ExpectStatusThenClose(with_body, 400);

    RawConnection chunked(port());
    chunked.send(make_request("GET", "/json", {{"Transfer-Encoding", "chunked"}}) + "0\r\n\r\n");
    ExpectStatusThenClose(chunked, 400);
}

TEST_P(Floor, EchoesWebSocketMessagesOfEverySize) {
    WsClient ws;
    ws.connect(port(), "/ws");  // the client checks Sec-WebSocket-Accept
    ws.send_text("hello");
    EXPECT_EQ(ws.receive(), ws_text("hello"));
    const std::string medium(300, 'm');  // a 16-bit length
    ws.send_binary(medium);
    EXPECT_EQ(ws.receive(), ws_binary(medium));
    ws.send_text(std::string(5000, 'k'));
    EXPECT_EQ(ws.receive(), ws_text(std::string(5000, 'k')));
    ws.ping("are you there");
    ws.send_text("after the ping");
    EXPECT_EQ(ws.receive(), ws_text("after the ping"));
    ASSERT_EQ(ws.pongs().size(), 1U);
    EXPECT_EQ(ws.pongs()[0], "are you there");
    EXPECT_EQ(ws.close(1000).code, 1000);
}

TEST_P(Floor, ClosesOnAFrameItCannotEcho) {
    const std::string close_1002("\x88\x02\x03\xea", 4);

    RawConnection unmasked = Upgraded(port());
    unmasked.send(ws_frame(opcode::text, "plain", true, /*masked=*/false));
    EXPECT_TRUE(unmasked.wait_closed(std::chrono::seconds(5)));
    EXPECT_EQ(unmasked.pending(), close_1002);

    // A header that announces more than the 8 KiB buffer holds: refused before its payload.
    RawConnection oversized = Upgraded(port());
    std::string header = ws_frame(opcode::binary, std::string(70000, 'l'));
    header.resize(2 + 8 + 4);  // FIN and opcode, 127 and the 64-bit length, the mask key
    oversized.send(header);
    EXPECT_TRUE(oversized.wait_closed(std::chrono::seconds(5)));
    EXPECT_EQ(oversized.pending(), close_1002);
}

TEST_P(Floor, RefusesAnUpgradeWithoutAKey) {
    RawConnection c(port());
    c.send(make_request("GET", "/ws", {{"Upgrade", "websocket"}, {"Connection", "Upgrade"}}));
    ExpectStatusThenClose(c, 400);
}

INSTANTIATE_TEST_SUITE_P(Both,
                         Floor,
                         ::testing::Values(FLAMECPP_EPOLL_REF, FLAMECPP_ASIO_REF),
                         [](const ::testing::TestParamInfo<const char*>& param_info) {
                             return std::string_view(param_info.param).ends_with("epoll_ref")
                                        ? std::string("epoll")
                                        : std::string("asio");
                         });

}  // namespace
}  // namespace flamecpp::test
