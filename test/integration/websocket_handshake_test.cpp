// The WebSocket handshake: refused upgrades (426, 404, 400, 403, 500) before and by
// handlers, subprotocols and extra headers in the answer, and path and query parameters of
// the upgrade request.
#include <cstdint>
#include <string>

#include <gtest/gtest.h>

#include "contract_checks.hpp"
#include "http_client.hpp"
#include "websocket_fixture.hpp"
#include "ws_client.hpp"

namespace flamecpp::wstest {
namespace {

// The HTTP answer to an upgrade request that must be refused.
test::Response RefusalTo(std::uint16_t port, const std::string& request) {
    test::RawConnection c(port);
    c.send(request);
    return c.read_response();
}

// ---------------------------------------------------------------------------------------------
// The handshake: refusals, subprotocols, headers, parameters.

TEST_F(WebSocketTest, PlainGetOnWebSocketRouteIs426WithUpgradeHeader) {
    const test::Response r = test::http_get(port(), "/ep/raw");
    EXPECT_EQ(r.status, 426);
    EXPECT_TRUE(r.header_has_token("Upgrade", "websocket"))
        << "Upgrade: " << r.header("Upgrade").value_or("<none>");
    test::ExpectCommonHeaders(r);
}

TEST_F(WebSocketTest, UpgradeToPathWithoutWebSocketRouteIs404) {
    for (const char* target : {"/no/such/path", "/http-only"}) {
        SCOPED_TRACE(target);
        try {
            Connect(target);
            ADD_FAILURE() << "the handshake succeeded";
        } catch (const HandshakeRejected& e) {
            EXPECT_EQ(e.status, 404) << e.what();
        }
    }
    // The HTTP route itself still answers.
    EXPECT_EQ(test::http_get(port(), "/http-only").body, "plain HTTP");
}

TEST_F(WebSocketTest, UnsupportedVersionIs426NamingVersion13) {
    const test::Response r =
        RefusalTo(port(), test::upgrade_request("/ep/raw", {{"Sec-WebSocket-Version", "8"}}));
    EXPECT_EQ(r.status, 426);
    EXPECT_EQ(r.header("Sec-WebSocket-Version").value_or("<none>"), "13");
    test::ExpectCommonHeaders(r);
    const test::Response missing =
        RefusalTo(port(), test::upgrade_request("/ep/raw", {}, {"Sec-WebSocket-Version"}));
    EXPECT_EQ(missing.status, 426);
    EXPECT_EQ(missing.header("Sec-WebSocket-Version").value_or("<none>"), "13");
}

TEST_F(WebSocketTest, MissingOrMalformedKeyIs400) {
    const test::Response missing =
        RefusalTo(port(), test::upgrade_request("/ep/raw", {}, {"Sec-WebSocket-Key"}));
    EXPECT_EQ(missing.status, 400);
    test::ExpectCommonHeaders(missing);
    const test::Response malformed =
        RefusalTo(port(), test::upgrade_request("/ep/raw", {{"Sec-WebSocket-Key", "short"}}));
    EXPECT_EQ(malformed.status, 400);
    ExpectStillServing();
}

TEST_F(WebSocketTest, CloseBeforeAcceptRefusesWith403) {
    const test::Response r = RefusalTo(port(), test::upgrade_request("/ep/refuses?id=refused"));
    EXPECT_EQ(r.status, 403);
    test::ExpectCommonHeaders(r);
    ExpectStillServing();
}

TEST_F(WebSocketTest, EndpointThatNeitherAcceptsNorClosesIsRefusedWith403) {
    try {
        Connect("/ep/ignores?id=ignored");
        FAIL() << "the handshake succeeded";
    } catch (const HandshakeRejected& e) {
        EXPECT_EQ(e.status, 403) << e.what();
    }
    ExpectStillServing();
}

TEST_F(WebSocketTest, ExceptionBeforeAcceptIs500) {
    const test::Response r =
        RefusalTo(port(), test::upgrade_request("/ep/connect-throws?id=connect-throws"));
    EXPECT_EQ(r.status, 500);
    test::ExpectCommonHeaders(r);
    ExpectStillServing();
}

TEST_F(WebSocketTest, ChosenSubprotocolIsInTheHandshakeAnswer) {
    WsClient c;
    const std::string chosen = c.connect(port(), "/ep/subprotocols?id=sub", {"chat.v1", "chat.v2"});
    EXPECT_EQ(chosen, "chat.v2");
    EXPECT_EQ(c.handshake_header("X-Flamecpp-Test").value_or("<none>"), "accepted");
    EXPECT_EQ(c.receive(), ws_text("offered:chat.v1,chat.v2"));
}

TEST_F(WebSocketTest, NoSubprotocolWhenNoneIsChosen) {
    WsClient none;
    EXPECT_EQ(none.connect(port(), "/ep/subprotocols?id=sub-none"), "");
    EXPECT_FALSE(none.handshake_header("Sec-WebSocket-Protocol").has_value());
    EXPECT_EQ(none.receive(), ws_text("offered:"));

    WsClient other;
    EXPECT_EQ(other.connect(port(), "/ep/subprotocols?id=sub-other", {"mqtt"}), "");
    EXPECT_FALSE(other.handshake_header("Sec-WebSocket-Protocol").has_value());
    EXPECT_EQ(other.receive(), ws_text("offered:mqtt"));
}

TEST_F(WebSocketTest, AcceptingAnUnofferedSubprotocolIs500) {
    try {
        WsClient c;
        c.connect(port(), "/ep/bad-subprotocol?id=bad-sub", {"chat.v1"});
        FAIL() << "the handshake succeeded";
    } catch (const HandshakeRejected& e) {
        EXPECT_EQ(e.status, 500) << e.what();
        EXPECT_FALSE(e.header("Sec-WebSocket-Protocol").has_value());
    }
    ExpectStillServing();
}

TEST_F(WebSocketTest, PathAndQueryParametersReachFunctionView) {
    WsClient c = Connect("/fn/rooms/caf%C3%A9/41?who=al+ice%21");
    EXPECT_EQ(c.receive(), ws_text("caf\xC3\xA9|41|42|al ice!|/fn/rooms/{room}/{n:int}"));
    EXPECT_EQ(c.receive(), ws_closed(1000));
}

TEST_F(WebSocketTest, NonIntegerPathParameterIs404) {
    try {
        Connect("/fn/rooms/lobby/abc");
        FAIL() << "the handshake succeeded";
    } catch (const HandshakeRejected& e) {
        EXPECT_EQ(e.status, 404) << e.what();
    }
}

TEST_F(WebSocketTest, PathAndQueryParametersReachEndpointClass) {
    WsClient c = Connect("/ep/rooms/lobby?who=bob&id=room");
    EXPECT_EQ(c.receive(), ws_text("lobby|bob"));
}

}  // namespace
}  // namespace flamecpp::wstest
