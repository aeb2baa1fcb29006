// Integration tests of the `endpoints` sample against the samples' contract
// (docs/samples.md): the rules every sample shares (sample_contract_tests.hpp)
// and the `endpoints` tables (HTTP and WebSocket), checked over real loopback sockets against
// the real binary.
#include <algorithm>
#include <chrono>
#include <csignal>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <gtest/gtest.h>
#include <signal.h>

#include "contract_checks.hpp"
#include "http_client.hpp"
#include "process.hpp"
#include "sample_contract_tests.hpp"
#include "ws_client.hpp"

#ifndef FLAMECPP_SAMPLE_ENDPOINTS
#error "FLAMECPP_SAMPLE_ENDPOINTS must be defined as the path of the endpoints sample executable"
#endif

namespace flamecpp::test {
namespace {

constexpr std::string_view kFoo = R"({"message":"foo"})";
constexpr std::string_view kBar = R"({"message":"bar"})";

constexpr Exchange kEndpointsPipeline[] = {
    {"/foo/", 200, kFoo},
    {"/bar/", 200, kBar},
    {"/foobar/", 200, kFoo},
    {"/users/42", 200, R"({"user_id":42})"},
    {"/files/a/b/c.txt", 200, R"({"path":"a/b/c.txt"})"},
};

constexpr Probe kEndpointsProbes[] = {
    {"GET", "/foo/"},
    {"GET", "/bar/"},
    {"GET", "/foobar/"},
    {"POST", "/foobar/"},
    {"PUT", "/foobar/"},
    {"GET", "/users/42"},
    {"GET", "/users/abc"},
    {"GET", "/files/a/b/c.txt"},
    {"GET", "/search?q=text&limit=5"},
    {"GET", "/search?q=text&limit=abc"},
    {"POST", "/items/"},  // an empty body: not JSON
    {"GET", "/boom/"},
    {"GET", "/ws/close/last"},
    {"GET", "/ws/fn"},  // a WebSocket-only path: 426
    {"GET", "/no/such/path"},
};

constexpr SampleTraits kEndpoints{
    .name = "endpoints",
    .executable = FLAMECPP_SAMPLE_ENDPOINTS,
    .ok = {"/foo/", 200, kFoo},
    .next = {"/bar/", 200, kBar},
    .pipeline = kEndpointsPipeline,
    .probes = kEndpointsProbes,
    .post_status = std::nullopt,  // the table fixes no answer to POST /foo/
};

INSTANTIATE_TEST_SUITE_P(EndpointsContract, CommandLine, ::testing::Values(kEndpoints));
INSTANTIATE_TEST_SUITE_P(EndpointsContract, Lifecycle, ::testing::Values(kEndpoints));
INSTANTIATE_TEST_SUITE_P(EndpointsContract, Http, ::testing::Values(kEndpoints));
INSTANTIATE_TEST_SUITE_P(EndpointsContract, Limits, ::testing::Values(kEndpoints));
INSTANTIATE_TEST_SUITE_P(EndpointsContract, SlowLimits, ::testing::Values(kEndpoints));

// ---------------------------------------------------------------------------------------------
// Helpers.

// The body parsed as JSON; a test failure (and null) if it is not JSON.
boost::json::value JsonOf(const Response& r) {
    boost::system::error_code ec;
    boost::json::value v = boost::json::parse(r.body, ec);
    EXPECT_FALSE(ec) << "status " << r.status << ": the body is not JSON: " << r.body;
    return ec ? boost::json::value() : v;
}

// A JSON answer: status, application/json, and a body equal to `expected` as JSON (so 1.5 and
// 1.5E0 are the same number; key order does not matter).
void ExpectJson(const Response& r, int status, std::string_view expected) {
    EXPECT_EQ(r.status, status) << "body: " << r.body;
    EXPECT_TRUE(starts_with_ci(r.header("Content-Type").value_or(""), "application/json"))
        << "Content-Type: " << r.header("Content-Type").value_or("<none>");
    EXPECT_EQ(JsonOf(r), boost::json::parse(expected)) << "body: " << r.body;
    ExpectCommonHeaders(r);
}

// "400 with a JSON {"detail": ...}"; returns the detail serialized, for checks on its text.
std::string ExpectJsonDetail(const Response& r, int status) {
    EXPECT_EQ(r.status, status) << "body: " << r.body;
    EXPECT_TRUE(starts_with_ci(r.header("Content-Type").value_or(""), "application/json"))
        << "Content-Type: " << r.header("Content-Type").value_or("<none>");
    ExpectCommonHeaders(r);
    const boost::json::value v = JsonOf(r);
    if (!v.is_object() || !v.as_object().contains("detail")) {
        ADD_FAILURE() << "no \"detail\" in the body: " << r.body;
        return {};
    }
    const boost::json::value& detail = v.as_object().at("detail");
    EXPECT_FALSE(detail.is_null()) << "body: " << r.body;
    return boost::json::serialize(detail);
}

Response Send(std::uint16_t port,
              std::string_view method,
              std::string_view target,
              std::string_view body = {},
              const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    RawConnection c(port);
    std::vector<std::pair<std::string, std::string>> all = headers;
    if (body.empty())
        all.emplace_back("Content-Length", "0");
    c.send(make_request(method, target, all, body));
    return c.read_response(kIo);
}

Response PostItem(std::uint16_t port, std::string_view json) {
    return Send(port, "POST", "/items/", json, {{"Content-Type", "application/json"}});
}

std::set<std::string> AllowTokens(const Response& r) {
    std::set<std::string> tokens;
    const std::string allow = r.header("Allow").value_or("");
    std::size_t start = 0;
    while (start <= allow.size()) {
        std::size_t comma = allow.find(',', start);
        if (comma == std::string::npos)
            comma = allow.size();
        std::string token = allow.substr(start, comma - start);
        token.erase(0, token.find_first_not_of(" \t"));
        token.erase(token.find_last_not_of(" \t") + 1);
        if (!token.empty())
            tokens.insert(token);
        start = comma + 1;
    }
    return tokens;
}

class EndpointsContract : public SampleServer<EndpointsContract> {
protected:
    void SetUp() override { UseSample(kEndpoints); }

    WsClient ConnectWs(std::string_view target, std::vector<std::string> subprotocols = {}) {
        WsClient client;
        client.connect(port(), target, std::move(subprotocols));
        return client;
    }
};

// ---------------------------------------------------------------------------------------------
// HTTP table.

TEST_F(EndpointsContract, SyncFunctionViewFoo) {
    ExpectJson(http_get(port(), "/foo/", kIo), 200, kFoo);
}

TEST_F(EndpointsContract, CoroutineFunctionViewBar) {
    ExpectJson(http_get(port(), "/bar/", kIo), 200, kBar);
}

TEST_F(EndpointsContract, ClassViewSyncGet) {
    ExpectJson(http_get(port(), "/foobar/", kIo), 200, kFoo);
}

TEST_F(EndpointsContract, ClassViewCoroutinePost) {
    ExpectJson(Send(port(), "POST", "/foobar/"), 200, kBar);
}

TEST_F(EndpointsContract, ClassViewPutIs405AllowingExactlyGetHeadPost) {
    const Response r = Send(port(), "PUT", "/foobar/");
    EXPECT_EQ(r.status, 405);
    EXPECT_EQ(AllowTokens(r), (std::set<std::string>{"GET", "HEAD", "POST"}))
        << "Allow: " << r.header("Allow").value_or("<none>");
    ExpectCommonHeaders(r);
}

TEST_F(EndpointsContract, TypedPathParameterIsAnInteger) {
    ExpectJson(http_get(port(), "/users/42", kIo), 200, R"({"user_id":42})");
    const Response exact = http_get(port(), "/users/42", kIo);
    EXPECT_EQ(exact.body, R"({"user_id":42})") << "an integer, not a string";
}

TEST_F(EndpointsContract, NonIntegerUserIdIs404) {
    const Response r = http_get(port(), "/users/abc", kIo);
    EXPECT_EQ(r.status, 404);
    ExpectCommonHeaders(r);
}

TEST_F(EndpointsContract, PathParameterSpansSlashes) {
    ExpectJson(http_get(port(), "/files/a/b/c.txt", kIo), 200, R"({"path":"a/b/c.txt"})");
}

// The /search and /items/ rows need query and body injection.

TEST_F(EndpointsContract, SearchInjectsQueryParametersByNameAndType) {
    ExpectJson(http_get(port(), "/search?q=text&limit=5", kIo), 200, R"({"q":"text","limit":5})");
}

TEST_F(EndpointsContract, SearchLimitDefaultsToTen) {
    ExpectJson(http_get(port(), "/search?q=text", kIo), 200, R"({"q":"text","limit":10})");
}

TEST_F(EndpointsContract, SearchNonIntegerLimitIs400WithJsonDetail) {
    const std::string detail =
        ExpectJsonDetail(http_get(port(), "/search?q=text&limit=abc", kIo), 400);
    EXPECT_NE(detail.find("limit"), std::string::npos)
        << "the detail does not name limit: " << detail;
}

TEST_F(EndpointsContract, PostItemCreatesAndIdsCountUp) {
    const Response first = PostItem(port(), R"({"name": "x", "price": 1.5})");
    EXPECT_EQ(first.status, 201) << first.body;
    const boost::json::value a = JsonOf(first);
    const Response second = PostItem(port(), R"({"name": "y", "price": 2})");
    EXPECT_EQ(second.status, 201) << second.body;
    const boost::json::value b = JsonOf(second);
    ASSERT_TRUE(a.is_object() && a.as_object().contains("id")) << first.body;
    ASSERT_TRUE(b.is_object() && b.as_object().contains("id")) << second.body;
    ASSERT_TRUE(a.at("id").is_int64()) << first.body;
    ASSERT_TRUE(b.at("id").is_int64()) << second.body;
    EXPECT_GE(a.at("id").as_int64(), 1);
    EXPECT_EQ(b.at("id").as_int64(), a.at("id").as_int64() + 1);
    EXPECT_EQ(a.at("name"), "x");
    EXPECT_EQ(a.at("price"), 1.5);
    EXPECT_EQ(b.at("name"), "y");
    EXPECT_TRUE(starts_with_ci(first.header("Content-Type").value_or(""), "application/json"));
    ExpectCommonHeaders(first);
}

TEST_F(EndpointsContract, PostItemWithBadJsonIs400WithDetail) {
    ExpectJsonDetail(PostItem(port(), R"({"name": "x", "price": )"), 400);
    ExpectJsonDetail(PostItem(port(), "not json at all"), 400);
    ExpectJsonDetail(Send(port(), "POST", "/items/"), 400);  // no body
}

TEST_F(EndpointsContract, PostItemWithMissingFieldIs400NamingIt) {
    const std::string detail = ExpectJsonDetail(PostItem(port(), R"({"name": "x"})"), 400);
    EXPECT_NE(detail.find("price"), std::string::npos)
        << "the detail does not name price: " << detail;
}

TEST_F(EndpointsContract, PostItemWithWrongFieldTypeIs400NamingIt) {
    const std::string price =
        ExpectJsonDetail(PostItem(port(), R"({"name": "x", "price": "cheap"})"), 400);
    EXPECT_NE(price.find("price"), std::string::npos)
        << "the detail does not name price: " << price;
    const std::string name = ExpectJsonDetail(PostItem(port(), R"({"name": 7, "price": 1})"), 400);
    EXPECT_NE(name.find("name"), std::string::npos) << "the detail does not name name: " << name;
}

// Ids count from 1 per process: a process of its own sees exactly the table's answer.
TEST(EndpointsItems, FirstItemOfAProcessHasIdOne) {
    SampleProcess server = SampleProcess::start(kEndpoints.executable);
    ExpectJson(PostItem(server.port(), R"({"name": "x", "price": 1.5})"), 201,
               R"({"id":1,"name":"x","price":1.5})");
    ExpectJson(PostItem(server.port(), R"({"name": "x", "price": 1.5})"), 201,
               R"({"id":2,"name":"x","price":1.5})");
    EXPECT_EQ(server.stop(), 0);
}

TEST_F(EndpointsContract, BoomIs500AndTheNextConnectionIsServed) {
    const Response r = http_get(port(), "/boom/", kIo);
    EXPECT_EQ(r.status, 500);
    ExpectCommonHeaders(r);
    ExpectFreshConnectionServed(kEndpoints, port());
}

// ---------------------------------------------------------------------------------------------
// WebSocket table.

TEST_F(EndpointsContract, WsFnEchoesWithTheSameFrameType) {
    WsClient c = ConnectWs("/ws/fn");
    c.send_text("hello");
    EXPECT_EQ(c.receive(), ws_text("hello"));
    c.send_binary(std::string("\x00\xff", 2));
    EXPECT_EQ(c.receive(), ws_binary(std::string("\x00\xff", 2)));
    EXPECT_EQ(c.close(1000).code, 1000);
}

TEST_F(EndpointsContract, WsBytesAnswersBinaryWithPrefix) {
    WsClient c = ConnectWs("/ws/bytes");
    c.send_binary(std::string("\x01\x02", 2));
    EXPECT_EQ(c.receive(), ws_binary(std::string("Message: \x01\x02", 11)));
}

TEST_F(EndpointsContract, WsBytesClosesOnTextWith1003) {
    WsClient c = ConnectWs("/ws/bytes");
    c.send_text("text");
    EXPECT_EQ(c.receive(), ws_closed(1003));
}

TEST_F(EndpointsContract, WsTextAnswersTextWithPrefix) {
    WsClient c = ConnectWs("/ws/text");
    c.send_text("hi");
    EXPECT_EQ(c.receive(), ws_text("Message text was: hi"));
}

TEST_F(EndpointsContract, WsTextClosesOnBinaryWith1003) {
    WsClient c = ConnectWs("/ws/text");
    c.send_binary("hi");
    EXPECT_EQ(c.receive(), ws_closed(1003));
}

TEST_F(EndpointsContract, WsJsonWrapsTheReceivedValue) {
    WsClient c = ConnectWs("/ws/json");
    for (const char* sent : {R"({"a": [1, "two", null]})", "42", R"("text")", "[]"}) {
        SCOPED_TRACE(sent);
        c.send_text(sent);
        const WsEvent answer = c.receive();
        const auto* message = std::get_if<WsMessage>(&answer);
        ASSERT_NE(message, nullptr) << answer;
        EXPECT_FALSE(message->binary) << "the answer must be a text message";
        boost::system::error_code ec;
        const boost::json::value got = boost::json::parse(message->data, ec);
        ASSERT_FALSE(ec) << "not JSON: " << message->data;
        boost::json::value expected = {{"message", boost::json::parse(sent)}};
        EXPECT_EQ(got, expected) << message->data;
    }
}

TEST_F(EndpointsContract, WsJsonClosesOnNonJsonWith1003) {
    WsClient c = ConnectWs("/ws/json");
    c.send_text("{not json");
    EXPECT_EQ(c.receive(), ws_closed(1003));
}

TEST_F(EndpointsContract, WsRawKeepsTheFrameType) {
    WsClient c = ConnectWs("/ws/raw");
    c.send_text("t");
    EXPECT_EQ(c.receive(), ws_text("Message: t"));
    c.send_binary("b");
    EXPECT_EQ(c.receive(), ws_binary("Message: b"));
}

// Polls GET /ws/close/last until it reports `code` (on_disconnect runs as the connection
// ends, a moment after the client saw the close).
std::string WaitForLastCloseCode(std::uint16_t port, std::string_view expected) {
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    std::string body;
    for (;;) {
        const Response r = http_get(port, "/ws/close/last", kIo);
        EXPECT_EQ(r.status, 200);
        body = r.body;
        boost::system::error_code ec;
        const boost::json::value v = boost::json::parse(body, ec);
        if (!ec && v == boost::json::parse(expected))
            return body;
        if (std::chrono::steady_clock::now() > give_up)
            return body;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

TEST(EndpointsWsClose, LastCodeIsNullBeforeAnyThenTheCodeTheClientSent) {
    SampleProcess server = SampleProcess::start(kEndpoints.executable);
    ExpectJson(http_get(server.port(), "/ws/close/last", kIo), 200, R"({"code":null})");
    for (int code : {4001, 1000, 4999}) {
        SCOPED_TRACE(code);
        WsClient c;
        c.connect(server.port(), "/ws/close");
        c.send_text("ignored");
        EXPECT_EQ(c.close(code).code, code) << "the server's close frame";
        const std::string expected = R"({"code":)" + std::to_string(code) + "}";
        EXPECT_EQ(boost::json::parse(WaitForLastCloseCode(server.port(), expected)),
                  boost::json::parse(expected));
    }
    EXPECT_EQ(server.stop(), 0);
}

TEST_F(EndpointsContract, WsSubprotocolAcceptsTheFirstOffered) {
    WsClient c;
    EXPECT_EQ(c.connect(port(), "/ws/subprotocol", {"chat", "superchat"}), "chat");
    EXPECT_EQ(c.handshake_header("Sec-WebSocket-Protocol").value_or("<none>"), "chat");
    EXPECT_EQ(c.receive(), ws_text("chat"));
    EXPECT_EQ(c.close(1000).code, 1000);
    ExpectFreshConnectionServed(kEndpoints, port());
}

TEST_F(EndpointsContract, WsSubprotocolSaysNoneWhenNoneOffered) {
    WsClient c;
    EXPECT_EQ(c.connect(port(), "/ws/subprotocol"), "");
    EXPECT_FALSE(c.handshake_header("Sec-WebSocket-Protocol").has_value());
    EXPECT_EQ(c.receive(), ws_text("none"));
    // The sample must still be there once its handler has moved on.
    EXPECT_EQ(c.close(1000).code, 1000);
    ExpectFreshConnectionServed(kEndpoints, port());
}

TEST_F(EndpointsContract, PlainGetOnWebSocketPathIs426) {
    for (const char* target : {"/ws/fn", "/ws/bytes", "/ws/close"}) {
        SCOPED_TRACE(target);
        const Response r = http_get(port(), target, kIo);
        EXPECT_EQ(r.status, 426);
        EXPECT_TRUE(r.header_has_token("Upgrade", "websocket"));
        ExpectCommonHeaders(r);
    }
}

TEST_F(EndpointsContract, UpgradeToHttpOnlyPathIs404) {
    try {
        ConnectWs("/foo/");
        ADD_FAILURE() << "the handshake succeeded";
    } catch (const HandshakeRejected& e) {
        EXPECT_EQ(e.status, 404) << e.what();
    }
}

// The WebSocket rows of "Limits and bad input".

TEST_F(EndpointsContract, WebSocketMessageOver1MiBClosesWith1009) {
    WsClient c = ConnectWs("/ws/fn");
    c.send_binary(std::string(1024 * 1024 + 1, 'x'));
    EXPECT_EQ(c.receive(), ws_closed(1009));
    ExpectFreshConnectionServed(kEndpoints, port());
}

TEST_F(EndpointsContract, WebSocketTextThatIsNotUtf8ClosesWith1007) {
    RawWebSocket raw(port(), "/ws/raw");
    ASSERT_TRUE(raw.send(ws_frame(opcode::text, "\xED\xA0\x80")));  // a UTF-16 surrogate
    EXPECT_EQ(raw.read_close_code(), 1007);
    ExpectFreshConnectionServed(kEndpoints, port());
}

TEST_F(EndpointsContract, WebSocketProtocolErrorClosesWith1002) {
    RawWebSocket raw(port(), "/ws/fn");
    ASSERT_TRUE(raw.send(ws_frame(opcode::binary, "x", true, /*masked=*/false)));
    EXPECT_EQ(raw.read_close_code(), 1002);
    ExpectFreshConnectionServed(kEndpoints, port());
}

// "SIGINT or SIGTERM: ... close open WebSockets with code 1001, exit 0."
TEST(EndpointsLifecycle, SigintClosesOpenWebSocketsWith1001AndExitsZero) {
    SampleProcess server = SampleProcess::start(kEndpoints.executable);
    WsClient fn;
    fn.connect(server.port(), "/ws/fn");
    WsClient text;
    text.connect(server.port(), "/ws/text");
    fn.send_text("hi");
    ASSERT_EQ(fn.receive(), ws_text("hi"));
    ASSERT_EQ(::kill(server.pid(), SIGINT), 0);
    EXPECT_EQ(fn.receive(), ws_closed(1001));
    EXPECT_EQ(text.receive(), ws_closed(1001));
    EXPECT_TRUE(server.wait_for_exit(std::chrono::seconds(10)))
        << "the sample did not exit after its WebSockets were closed";
    EXPECT_EQ(server.exit_code(), 0);
}

}  // namespace
}  // namespace flamecpp::test
