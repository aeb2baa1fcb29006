// Integration tests of the `chat` sample against the samples' contract
// (docs/samples.md): the rules every sample shares (sample_contract_tests.hpp)
// and the `chat` table, checked over real loopback sockets against the real binary.
#include <chrono>
#include <csignal>
#include <optional>
#include <string>
#include <string_view>

#include <gtest/gtest.h>
#include <signal.h>

#include "contract_checks.hpp"
#include "http_client.hpp"
#include "process.hpp"
#include "sample_contract_tests.hpp"
#include "ws_client.hpp"

#ifndef FLAMECPP_SAMPLE_CHAT
#error "FLAMECPP_SAMPLE_CHAT must be defined as the path of the chat sample executable"
#endif

namespace flamecpp::test {
namespace {

// chat serves one HTTP page; the other answer the shared tests need is the 404 of an unknown
// path, which differs from the page in status.
constexpr Exchange kChatPage{"/", 200, std::nullopt};
constexpr Exchange kChatNotFound{"/no/such/path", 404, std::nullopt};

constexpr Exchange kChatPipeline[] = {kChatPage, kChatNotFound, kChatPage};

constexpr Probe kChatProbes[] = {
    {"GET", "/"},
    {"GET", "/no/such/path"},
    {"GET", "/ws"},  // a WebSocket-only path: 426
    {"POST", "/"},
};

constexpr SampleTraits kChat{
    .name = "chat",
    .executable = FLAMECPP_SAMPLE_CHAT,
    .ok = kChatPage,
    .next = kChatNotFound,
    .pipeline = kChatPipeline,
    .probes = kChatProbes,
    .post_status = std::nullopt,  // the table fixes no answer to POST /
};

INSTANTIATE_TEST_SUITE_P(ChatContract, CommandLine, ::testing::Values(kChat));
INSTANTIATE_TEST_SUITE_P(ChatContract, Lifecycle, ::testing::Values(kChat));
INSTANTIATE_TEST_SUITE_P(ChatContract, Http, ::testing::Values(kChat));
INSTANTIATE_TEST_SUITE_P(ChatContract, Limits, ::testing::Values(kChat));
INSTANTIATE_TEST_SUITE_P(ChatContract, SlowLimits, ::testing::Values(kChat));

// ---------------------------------------------------------------------------------------------
// The `chat` table.

class ChatContract : public SampleServer<ChatContract> {
protected:
    void SetUp() override { UseSample(kChat); }

    WsClient ConnectWs() {
        WsClient client;
        client.connect(port(), "/ws");
        return client;
    }
};

// The page's <script> element(s), where the WebSocket is opened.
std::string ScriptsOf(const std::string& page) {
    std::string scripts;
    const std::string lower = lowercase(page);
    for (std::size_t at = lower.find("<script"); at != std::string::npos;
         at = lower.find("<script", at + 1)) {
        const std::size_t end = lower.find("</script>", at);
        scripts += page.substr(at, end == std::string::npos ? std::string::npos : end - at);
    }
    return scripts;
}

TEST_F(ChatContract, PageIsUtf8HtmlWithAForm) {
    const Response r = http_get(port(), "/", kIo);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(lowercase(r.header("Content-Type").value_or("<none>")), "text/html; charset=utf-8");
    EXPECT_TRUE(contains_ci(r.body, "<html")) << r.body;
    EXPECT_TRUE(contains_ci(r.body, "<form")) << "the page has no form:\n" << r.body;
    EXPECT_TRUE(contains_ci(r.body, "<input")) << "the form has no input:\n" << r.body;
    ExpectCommonHeaders(r);
}

TEST_F(ChatContract, PageScriptOpensWebSocketToWsOnThePagesOwnHost) {
    const Response r = http_get(port(), "/", kIo);
    ASSERT_EQ(r.status, 200);
    const std::string script = ScriptsOf(r.body);
    ASSERT_FALSE(script.empty()) << "the page has no script:\n" << r.body;
    EXPECT_NE(script.find("new WebSocket("), std::string::npos) << script;
    EXPECT_NE(script.find("location.host"), std::string::npos)
        << "the WebSocket URL must come from the page's own host (location.host):\n"
        << script;
    EXPECT_NE(script.find("\"/ws\""), std::string::npos) << "no \"/ws\" path in:\n" << script;
    for (const char* hard_coded : {"127.0.0.1", "localhost", ":8000", "ws://127", "0.0.0.0"}) {
        EXPECT_EQ(script.find(hard_coded), std::string::npos)
            << "the script hard-codes \"" << hard_coded << "\":\n"
            << script;
    }
    // "lists every message it gets"
    EXPECT_TRUE(script.find("onmessage") != std::string::npos ||
                script.find("addEventListener(\"message\"") != std::string::npos ||
                script.find("addEventListener('message'") != std::string::npos)
        << "the script does not handle incoming messages:\n"
        << script;
}

TEST_F(ChatContract, WebSocketEchoesTextWithPrefix) {
    WsClient c = ConnectWs();
    c.send_text("M");
    EXPECT_EQ(c.receive(), ws_text("Message text was: M"));
    c.send_text("caf\xC3\xA9 \xF0\x9F\x94\xA5");
    EXPECT_EQ(c.receive(), ws_text("Message text was: caf\xC3\xA9 \xF0\x9F\x94\xA5"));
    c.send_text("");
    EXPECT_EQ(c.receive(), ws_text("Message text was: "));
    EXPECT_EQ(c.close(1000).code, 1000);
}

TEST_F(ChatContract, WebSocketHandshakeAnswerCarriesServerAndDate) {
    WsClient c = ConnectWs();
    EXPECT_TRUE(c.handshake_header("Server").has_value()) << "101 answer without Server";
    const auto date = c.handshake_header("Date");
    ASSERT_TRUE(date.has_value()) << "101 answer without Date";
    EXPECT_TRUE(parse_imf_fixdate(*date).has_value()) << "Date: " << *date;
}

TEST_F(ChatContract, WebSocketBinaryMessageClosesWith1003) {
    WsClient c = ConnectWs();
    c.send_text("first");
    EXPECT_EQ(c.receive(), ws_text("Message text was: first"));
    c.send_binary("bytes");
    EXPECT_EQ(c.receive(), ws_closed(1003));
    ExpectFreshConnectionServed(kChat, port());
}

TEST_F(ChatContract, ManyClientsAreServedIndependently) {
    WsClient a = ConnectWs();
    WsClient b = ConnectWs();
    a.send_text("from a");
    b.send_text("from b");
    EXPECT_EQ(b.receive(), ws_text("Message text was: from b"));
    EXPECT_EQ(a.receive(), ws_text("Message text was: from a"));
}

TEST_F(ChatContract, PlainGetOnWsIs426) {
    const Response r = http_get(port(), "/ws", kIo);
    EXPECT_EQ(r.status, 426);
    EXPECT_TRUE(r.header_has_token("Upgrade", "websocket"));
    ExpectCommonHeaders(r);
}

// The WebSocket rows of "Limits and bad input".

TEST_F(ChatContract, WebSocketMessageOver1MiBClosesWith1009) {
    WsClient c = ConnectWs();
    const std::string mib(1024 * 1024, 'x');
    c.send_text(mib);
    EXPECT_EQ(c.receive(), ws_text("Message text was: " + mib));
    c.send_text(mib + "x");
    EXPECT_EQ(c.receive(), ws_closed(1009));
    ExpectFreshConnectionServed(kChat, port());
}

TEST_F(ChatContract, WebSocketTextThatIsNotUtf8ClosesWith1007) {
    RawWebSocket raw(port(), "/ws");
    ASSERT_TRUE(raw.send(ws_frame(opcode::text, "\xC3\x28")));
    EXPECT_EQ(raw.read_close_code(), 1007);
    ExpectFreshConnectionServed(kChat, port());
}

TEST_F(ChatContract, WebSocketProtocolErrorsCloseWith1002) {
    struct Case {
        const char* name;
        std::string frame;
    };
    const Case cases[] = {
        {"unmasked frame", ws_frame(opcode::text, "hi", true, /*masked=*/false)},
        {"reserved bit", ws_frame(opcode::text, "hi", true, true, kRsv1)},
        {"bad opcode", ws_frame(0x3, "hi")},
        {"control frame over 125 bytes", ws_frame(opcode::ping, std::string(126, 'p'))},
        {"fragmented control frame", ws_frame(opcode::ping, "p", /*fin=*/false)},
    };
    WsClient bystander = ConnectWs();
    for (const Case& c : cases) {
        SCOPED_TRACE(c.name);
        RawWebSocket raw(port(), "/ws");
        ASSERT_TRUE(raw.send(c.frame));
        EXPECT_EQ(raw.read_close_code(), 1002);
        EXPECT_TRUE(raw.wait_closed(kIo)) << "the connection was left open";
    }
    bystander.send_text("still here");
    EXPECT_EQ(bystander.receive(), ws_text("Message text was: still here"));
    ExpectFreshConnectionServed(kChat, port());
}

// "SIGINT or SIGTERM: ... close open WebSockets with code 1001, exit 0."
TEST(ChatLifecycle, SigtermClosesOpenWebSocketWith1001AndExitsZero) {
    SampleProcess server = SampleProcess::start(kChat.executable);
    WsClient c;
    c.connect(server.port(), "/ws");
    c.send_text("hi");
    ASSERT_EQ(c.receive(), ws_text("Message text was: hi"));
    ASSERT_EQ(::kill(server.pid(), SIGTERM), 0);
    EXPECT_EQ(c.receive(), ws_closed(1001));
    EXPECT_TRUE(server.wait_for_exit(std::chrono::seconds(10)))
        << "the sample did not exit after its WebSocket was closed";
    EXPECT_EQ(server.exit_code(), 0);
}

}  // namespace
}  // namespace flamecpp::test
