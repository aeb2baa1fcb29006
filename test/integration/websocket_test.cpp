// WebSockets end to end: a real Server on 127.0.0.1, port 0, in this process, and blocking
// WebSocket clients (test/support/ws_client.hpp) talking to it, well-behaved or hostile.
//
// What the handlers see (close codes given to on_disconnect, exceptions caught inside
// handlers) is written to a journal the tests wait on; the waits are bounded, and stopping the
// server (Server::stop + wait) guarantees every handler has finished before counts are checked.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <latch>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <gtest/gtest.h>

#include <flamecpp/app.hpp>
#include <flamecpp/flamecpp.hpp>
#include <flamecpp/json.hpp>
#include <flamecpp/websocket.hpp>

#include "contract_checks.hpp"
#include "http_client.hpp"
#include "journal.hpp"
#include "quiet_options.hpp"
#include "run.hpp"
#include "ws_client.hpp"

namespace flamecpp {
namespace {

using namespace std::chrono_literals;
using test::HandshakeRejected;
using test::RawFrame;
using test::RawWebSocket;
using test::ws_binary;
using test::ws_closed;
using test::ws_frame;
using test::ws_text;
using test::WsClient;
using test::WsClosed;
using test::WsEvent;
using test::WsMessage;
namespace op = test::opcode;

constexpr auto kWait = 5s;  // any single wait for the server

// ---------------------------------------------------------------------------------------------
// The journal: what handlers saw, keyed by the connection's ?id= (handlers run on server
// threads).

test::Journal& journal() {
    static test::Journal instance;
    return instance;
}

std::string code_text(Code code) { return std::to_string(static_cast<int>(code)); }

std::string id_of(const Request& request) { return request.query("id").value_or("?"); }

// ---------------------------------------------------------------------------------------------
// Function views.

// Takes Data: called once per message after the framework accepted; echoes the frame type.
Task<void> echo(WebSocket& ws, Data data) {
    if (data.is_binary()) {
        co_await ws.send_bytes(std::move(data).str());
    } else {
        co_await ws.send_text(std::move(data).str());
    }
}

// Registered with Encoding::text, ::bytes and ::json.
Task<void> fn_text(WebSocket& ws, Data data) {
    co_await ws.send_text("text: " + std::move(data).str());
}

Task<void> fn_bytes(WebSocket& ws, Data data) {
    co_await ws.send_bytes("bytes: " + std::move(data).str());
}

Task<void> fn_json(WebSocket& ws, Data data) {
    boost::json::value reply = {{"got", data.json()}};
    co_await ws.send_json(reply);
}

// A plain (not coroutine) per-message view that throws.
void fn_throws(Data data) { throw std::runtime_error("fn_throws: " + data.str()); }

// Takes only WebSocket&: owns the conversation; the framework closes 1000 when it returns.
Task<void> own(WebSocket& ws) {
    co_await ws.accept();
    std::string text = co_await ws.receive_text();
    co_await ws.send_text("bye " + text);
}

// Owns the conversation but neither accepts nor closes.
Task<void> ignore(WebSocket&) { co_return; }

// Path and query parameters of the upgrade request, through the request and by injection.
Task<void> room(WebSocket& ws, Path<"n", int> n) {
    const Request& request = ws.request();
    std::string reply = std::string(request.path_param("room").value_or("<none>")) + "|" +
                        std::string(request.path_param("n").value_or("<none>")) + "|" +
                        std::to_string(*n + 1) + "|" + request.query("who").value_or("<none>") +
                        "|" + std::string(request.route());
    co_await ws.accept();
    co_await ws.send_text(reply);
}

// Loops on receive until WebSocketDisconnect, then receives once more; journals both codes.
Task<void> until_disconnect(WebSocket& ws) {
    const std::string id = id_of(ws.request());
    co_await ws.accept();
    std::string first = "no exception";
    std::string second = "no exception";
    try {
        for (;;) {
            Data data = co_await ws.receive();
            co_await ws.send_text("got " + data.str());
        }
    } catch (const WebSocketDisconnect& e) {
        first = code_text(e.code());
    }
    try {
        Data data = co_await ws.receive();
        second = "received " + data.str();
    } catch (const WebSocketDisconnect& e) {
        second = code_text(e.code());
    } catch (const std::exception& e) {
        second = std::string("other exception: ") + e.what();
    }
    journal().add("first:" + id, first);
    journal().add("second:" + id, second);
    journal().add("state:" + id, ws.state() == WebSocket::State::closed ? "closed" : "not closed");
}

// Every misuse in turn; what happened before the close goes to the client, the rest to the
// journal.
Task<void> misuse(WebSocket& ws) {
    std::string report;
    try {
        co_await ws.send_text("too early");
        report += "send-before-accept:no error;";
    } catch (const std::logic_error&) {
        report += "send-before-accept:logic_error;";
    } catch (const std::exception& e) {
        report += std::string("send-before-accept:") + e.what() + ";";
    }
    try {
        Data data = co_await ws.receive();
        report += "receive-before-accept:no error;";
    } catch (const std::logic_error&) {
        report += "receive-before-accept:logic_error;";
    } catch (const std::exception& e) {
        report += std::string("receive-before-accept:") + e.what() + ";";
    }
    report += std::string("state:") +
              (ws.state() == WebSocket::State::connecting ? "connecting" : "other") + ";";
    co_await ws.accept();
    try {
        co_await ws.accept();
        report += "accept-twice:no error;";
    } catch (const std::logic_error&) {
        report += "accept-twice:logic_error;";
    } catch (const std::exception& e) {
        report += std::string("accept-twice:") + e.what() + ";";
    }
    co_await ws.send_text(report);
    std::string go = co_await ws.receive_text();  // the client says when to close
    co_await ws.close(Code::normal, "misuse done");
    std::string after;
    try {
        co_await ws.send_text("too late");
        after = "no error";
    } catch (const WebSocketDisconnect& e) {
        after = "WebSocketDisconnect " + code_text(e.code());
    } catch (const std::exception& e) {
        after = std::string("other: ") + e.what();
    }
    journal().add("send-after-close", after);
    try {
        Data data = co_await ws.receive();
        after = "no error";
    } catch (const WebSocketDisconnect& e) {
        after = "WebSocketDisconnect " + code_text(e.code());
    } catch (const std::exception& e) {
        after = std::string("other: ") + e.what();
    }
    journal().add("receive-after-close", after);
    journal().add("close-code", ws.close_code() ? code_text(*ws.close_code()) : "none");
}

// Sends `count` messages tagged `tag` (text for 'A', binary for 'B'), by default each big
// enough that a write suspends now and then.
constexpr std::size_t kBurstPayload = 48 * 1024;

std::string burst_message(char tag, int i, std::size_t size = kBurstPayload) {
    std::string head = std::string(1, tag) + std::to_string(i) + ":";
    return head + std::string(size - head.size(), tag);
}

Task<void> send_many(WebSocket ws, char tag, int count, std::size_t size) {  // a copy of the handle
    for (int i = 0; i < count; ++i) {
        if (tag == 'A') {
            co_await ws.send_text(burst_message(tag, i, size));
        } else {
            co_await ws.send_bytes(burst_message(tag, i, size));
        }
    }
}

// Two tasks send at once on one connection; then "done". The client says "count" or
// "count size".
Task<void> burst(WebSocket& ws) {
    using namespace boost::asio::experimental::awaitable_operators;
    co_await ws.accept();
    const std::string request = co_await ws.receive_text();
    const int count = std::stoi(request);
    const auto space = request.find(' ');
    const std::size_t size =
        space == std::string::npos ? kBurstPayload : std::stoul(request.substr(space + 1));
    co_await (send_many(ws, 'A', count, size) && send_many(ws, 'B', count, size));
    co_await ws.send_text("done");
    co_await ws.receive();  // until the client closes
}

// A detached task sends ticks while the handler keeps receiving and echoing.
Task<void> ticker(WebSocket ws, int count) {
    try {
        boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
        for (int i = 0; i < count; ++i) {
            timer.expires_after(2ms);
            co_await timer.async_wait(boost::asio::use_awaitable);
            co_await ws.send_text("tick " + std::to_string(i));
        }
    } catch (const std::exception& e) {
        journal().add("ticker", e.what());
    }
}

Task<void> tick_and_echo(WebSocket& ws) {
    co_await ws.accept();
    boost::asio::co_spawn(co_await boost::asio::this_coro::executor, ticker(ws, 50),
                          boost::asio::detached);
    for (;;) {
        std::string text = co_await ws.receive_text();
        co_await ws.send_text("echo " + text);
    }
}

// Relay: each connection registers a copy of its handle under ?name= and forwards
// "to <name> <text>" to that connection, from whichever thread it runs on.
std::mutex registry_mutex;
std::map<std::string, WebSocket> registry;

std::optional<WebSocket> find_peer(const std::string& name) {
    std::lock_guard lock(registry_mutex);
    auto it = registry.find(name);
    if (it == registry.end())
        return std::nullopt;
    return it->second;
}

std::string thread_tag() {
    return std::to_string(std::hash<std::thread::id>{}(std::this_thread::get_id()));
}

Task<void> relay(WebSocket& ws) {
    const std::string name = ws.request().query("name").value_or("?");
    co_await ws.accept();
    {
        std::lock_guard lock(registry_mutex);
        registry.insert_or_assign(name, ws);
    }
    co_await ws.send_text("thread " + thread_tag());
    try {
        for (;;) {
            std::string line = co_await ws.receive_text();  // "to <name> <text>"
            const std::size_t space = line.find(' ', 3);
            const std::string target = line.substr(3, space - 3);
            const std::string text = line.substr(space + 1);
            std::optional<WebSocket> peer = find_peer(target);
            std::string result = "sent";
            if (!peer) {
                result = "no such peer";
            } else {
                try {
                    co_await peer->send_text(text);
                } catch (const WebSocketDisconnect&) {
                    result = "gone";
                }
            }
            co_await ws.send_text(result);
        }
    } catch (const WebSocketDisconnect& e) {
        journal().add("relay-ended:" + name, code_text(e.code()));
    }
}

// ---------------------------------------------------------------------------------------------
// WebSocketEndpoint classes. Each journals its close code under "disconnect:<id>".

struct Recording : WebSocketEndpoint {
    void on_disconnect(Code code) {
        journal().add("disconnect:" + id_of(request()), code_text(code));
    }
};

struct RawEcho : Recording {  // no encoding: text stays text, binary stays binary
    Task<void> on_receive(WebSocket& ws, Data data) {
        if (data.is_binary()) {
            co_await ws.send_bytes(std::move(data).str());
        } else {
            co_await ws.send_text(std::move(data).str());
        }
    }
};

struct TextEcho : Recording {
    static constexpr Encoding encoding = Encoding::text;
    Task<void> on_receive(WebSocket& ws, Data data) {
        co_await ws.send_text("text: " + std::move(data).str());
    }
};

struct BytesEcho : Recording {
    static constexpr Encoding encoding = Encoding::bytes;
    Task<void> on_receive(WebSocket& ws, Data data) {
        co_await ws.send_bytes("bytes: " + std::move(data).str());
    }
};

struct JsonEcho : Recording {
    static constexpr Encoding encoding = Encoding::json;
    Task<void> on_receive(WebSocket& ws, Data data) {
        boost::json::value reply = {{"got", data.json()}};
        co_await ws.send_json(reply);
    }
};

struct ThrowsOnReceive : Recording {
    void on_receive(Data data) { throw std::runtime_error("on_receive threw on " + data.str()); }
};

struct ThrowsOnConnect : Recording {
    void on_connect() { throw std::runtime_error("on_connect threw"); }
    void on_receive(Data) {}
};

struct RefusesOnConnect : Recording {
    Task<void> on_connect(WebSocket& ws) { co_await ws.close(); }
    void on_receive(Data) {}
};

struct IgnoresOnConnect : Recording {
    void on_connect() {}
    void on_receive(Data) {}
};

// Chooses "chat.v2" when offered, adds a header, then sends the offered list.
struct Subprotocols : Recording {
    Task<void> on_connect(WebSocket& ws) {
        const auto offered = ws.subprotocols();
        const bool has_v2 = std::find(offered.begin(), offered.end(), "chat.v2") != offered.end();
        std::string list;
        for (const auto& p : offered) list += (list.empty() ? "" : ",") + p;
        std::string chosen = has_v2 ? "chat.v2" : "";
        std::vector<std::pair<std::string, std::string>> headers = {
            {"X-Flamecpp-Test", "accepted"}};
        co_await ws.accept(std::move(chosen), std::move(headers));
        co_await ws.send_text("offered:" + list);
    }
    void on_receive(Data) {}
};

// Accepts with a subprotocol the client did not offer: a std::logic_error before accept.
struct BadSubprotocol : Recording {
    Task<void> on_connect(WebSocket& ws) { co_await ws.accept("never-offered"); }
    void on_receive(Data) {}
};

// Path and query parameters seen by an endpoint class.
struct Room : Recording {
    Task<void> on_connect(WebSocket& ws) {
        co_await ws.accept();
        co_await ws.send_text(std::string(request().path_param("room").value_or("<none>")) + "|" +
                              request().query("who").value_or("<none>"));
    }
    void on_receive(Data) {}
};

Response http_only() { return Response::text("plain HTTP"); }

void add_routes(App& app) {
    app.route("/http-only", http_only);
    app.websocket_route("/echo", echo);
    app.websocket_route("/fn/text", fn_text, Encoding::text);
    app.websocket_route("/fn/bytes", fn_bytes, Encoding::bytes);
    app.websocket_route("/fn/json", fn_json, Encoding::json);
    app.websocket_route("/fn/throws", fn_throws);
    app.websocket_route("/fn/own", own);
    app.websocket_route("/fn/ignore", ignore);
    app.websocket_route("/fn/rooms/{room}/{n:int}", room);
    app.websocket_route("/fn/until-disconnect", until_disconnect);
    app.websocket_route("/fn/misuse", misuse);
    app.websocket_route("/fn/burst", burst);
    app.websocket_route("/fn/ticker", tick_and_echo);
    app.websocket_route("/fn/relay", relay);
    app.websocket_route<RawEcho>("/ep/raw");
    app.websocket_route<TextEcho>("/ep/text");
    app.websocket_route<BytesEcho>("/ep/bytes");
    app.websocket_route<JsonEcho>("/ep/json");
    app.websocket_route<ThrowsOnReceive>("/ep/throws");
    app.websocket_route<ThrowsOnConnect>("/ep/connect-throws");
    app.websocket_route<RefusesOnConnect>("/ep/refuses");
    app.websocket_route<IgnoresOnConnect>("/ep/ignores");
    app.websocket_route<Subprotocols>("/ep/subprotocols");
    app.websocket_route<BadSubprotocol>("/ep/bad-subprotocol");
    app.websocket_route<Room>("/ep/rooms/{room}");
}

using test::quiet_options;

// ---------------------------------------------------------------------------------------------
// Fixture: a fresh app and server per test; a test may change the limits and restart.

class WebSocketTest : public ::testing::Test {
protected:
    void SetUp() override {
        journal().clear();
        add_routes(app);
        Start();
    }

    void TearDown() override {
        {
            // Handles in the registry must not outlive the server.
            std::lock_guard lock(registry_mutex);
            registry.clear();
        }
        server.reset();
    }

    void Start(unsigned threads = 2) {
        server.reset();
        server.emplace(app, quiet_options(threads));
    }

    // Stops the running server, changes the app's limits (the app must not change while a
    // server runs), and starts a new one.
    void Restart(const std::function<void(Limits&)>& change) {
        server.reset();
        change(app.limits());
        Start();
    }

    // Stops the server and waits for it: every handler (on_disconnect included) has finished.
    void StopServer() {
        server->stop();
        server->wait();
    }

    std::uint16_t port() const { return server->port(); }

    // A connected client; fails the test (and throws) if the handshake fails.
    WsClient Connect(std::string_view target, std::vector<std::string> subprotocols = {}) {
        WsClient client;
        client.connect(port(), target, std::move(subprotocols));
        return client;
    }

    // The connection `id` on an endpoint class was closed with `code`, reported once.
    void ExpectDisconnectedOnce(const std::string& id, int code) {
        const auto seen = journal().wait("disconnect:" + id);
        ASSERT_TRUE(seen.has_value()) << "on_disconnect of '" << id << "' did not run within 5 s";
        EXPECT_EQ(*seen, std::to_string(code)) << "on_disconnect of '" << id << "'";
        StopServer();
        EXPECT_EQ(journal().all("disconnect:" + id).size(), 1u)
            << "on_disconnect of '" << id << "' ran more than once";
    }

    // The server is still serving WebSockets.
    void ExpectStillServing() {
        WsClient client = Connect("/echo");
        client.send_text("still there?");
        EXPECT_EQ(client.receive(), ws_text("still there?"));
    }

    App app;
    std::optional<Server> server;
};

// A text message holding JSON equal to `expected` (numbers compare by value: 2.5 == 2.5E0).
void ExpectJsonText(const WsEvent& event, std::string_view expected) {
    const auto* message = std::get_if<WsMessage>(&event);
    ASSERT_NE(message, nullptr) << event;
    EXPECT_FALSE(message->binary) << "JSON goes out as a text message";
    boost::system::error_code ec;
    const boost::json::value got = boost::json::parse(message->data, ec);
    ASSERT_FALSE(ec) << "not JSON: " << message->data;
    EXPECT_EQ(got, boost::json::parse(expected)) << message->data;
}

// The HTTP answer to an upgrade request that must be refused.
test::Response RefusalTo(std::uint16_t port, const std::string& request) {
    test::RawConnection c(port);
    c.send(request);
    return c.read_response();
}

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

// ---------------------------------------------------------------------------------------------
// Close codes: the peer's, abrupt ends, timeouts, shutdown, limits.

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
    Restart([](Limits& limits) { limits.websocket_idle_timeout = 300ms; });
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
    Restart([](Limits& limits) { limits.websocket_idle_timeout = 300ms; });
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

// ---------------------------------------------------------------------------------------------
// Concurrency.

TEST_F(WebSocketTest, HundredConcurrentClientsTenMessagesEach) {
    constexpr int kThreads = 4;
    constexpr int kClientsPerThread = 25;
    constexpr int kMessages = 10;
    std::latch all_connected(kThreads);
    std::atomic<int> echoed{0};
    std::mutex failures_mutex;
    std::vector<std::string> failures;
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            try {
                std::vector<WsClient> clients(kClientsPerThread);
                for (auto& c : clients) c.connect(port(), "/echo");
                all_connected.arrive_and_wait();  // 100 connections open at once
                for (int m = 0; m < kMessages; ++m) {
                    for (int i = 0; i < kClientsPerThread; ++i) {
                        const std::string text =
                            std::to_string(t) + "/" + std::to_string(i) + "/" + std::to_string(m);
                        if (m % 2 == 0) {
                            clients[i].send_text(text);
                        } else {
                            clients[i].send_binary(text);
                        }
                    }
                    for (int i = 0; i < kClientsPerThread; ++i) {
                        const std::string text =
                            std::to_string(t) + "/" + std::to_string(i) + "/" + std::to_string(m);
                        const WsEvent expected = m % 2 == 0 ? ws_text(text) : ws_binary(text);
                        if (clients[i].receive() == expected)
                            ++echoed;
                    }
                }
                for (auto& c : clients) c.close(1000);
            } catch (const std::exception& e) {
                std::lock_guard lock(failures_mutex);
                failures.emplace_back(e.what());
            }
        });
    }
    for (auto& t : threads) t.join();
    std::string all_failures;
    for (const auto& f : failures) all_failures += f + "\n";
    EXPECT_TRUE(failures.empty()) << all_failures;
    EXPECT_EQ(echoed.load(), kThreads * kClientsPerThread * kMessages);
}

// Asks /fn/burst for `count` messages of `size` bytes from each of its two sending tasks,
// waits `before_reading`, then expects each task's messages whole, in order, of the right
// frame type, and never interleaved with the other task's.
void ExpectBurstArrivesWhole(WsClient& c,
                             int count,
                             std::size_t size,
                             std::chrono::milliseconds before_reading) {
    c.send_text(std::to_string(count) + " " + std::to_string(size));
    std::this_thread::sleep_for(before_reading);
    int next_a = 0;
    int next_b = 0;
    for (int i = 0; i < 2 * count; ++i) {
        const WsEvent event = c.receive();
        const auto* message = std::get_if<WsMessage>(&event);
        ASSERT_NE(message, nullptr) << "message #" << i << ": " << event;
        ASSERT_FALSE(message->data.empty());
        const char tag = message->data.front();
        ASSERT_TRUE(tag == 'A' || tag == 'B') << "message #" << i << ": " << event;
        int& next = tag == 'A' ? next_a : next_b;
        ASSERT_EQ(message->binary, tag == 'B') << "message #" << i << " has the wrong frame type";
        ASSERT_EQ(message->data, burst_message(tag, next, size))
            << "message #" << i << " is mangled";
        ++next;
    }
    EXPECT_EQ(next_a, count);
    EXPECT_EQ(next_b, count);
    EXPECT_EQ(c.receive(), ws_text("done"));
}

TEST_F(WebSocketTest, SendsFromTwoTasksNeverInterleave) {
    WsClient c = Connect("/fn/burst");
    ExpectBurstArrivesWhole(c, 20, kBurstPayload, 0ms);
}

// The server writes a frame with one non-blocking send and waits for the socket only for
// what the kernel did not take. With the client not reading, the socket buffers fill: frames
// are cut anywhere, in the header, in a copied payload or in a gathered one, and two writers
// queue behind the one that waits. Every message must still arrive whole and in order.
TEST_F(WebSocketTest, GatheredFramesFillingTheSocketBuffersArriveWhole) {
    WsClient c = Connect("/fn/burst");
    ExpectBurstArrivesWhole(c, 100, kBurstPayload, 300ms);  // 9.6 MB
}

TEST_F(WebSocketTest, CopiedFramesFillingTheSocketBuffersArriveWhole) {
    WsClient c = Connect("/fn/burst");
    ExpectBurstArrivesWhole(c, 40000, 120, 300ms);  // 9.6 MB in frames of 122 bytes
}

TEST_F(WebSocketTest, SpawnedTaskSendsWhileHandlerReceives) {
    WsClient c = Connect("/fn/ticker");
    int ticks = 0;
    int echoes = 0;
    int sent = 0;
    while (ticks < 50 || echoes < 20) {
        if (sent < 20) {
            c.send_text(std::to_string(sent));
            ++sent;
        }
        const WsEvent event = c.receive();
        const auto* message = std::get_if<WsMessage>(&event);
        ASSERT_NE(message, nullptr) << event;
        if (message->data.rfind("tick ", 0) == 0) {
            EXPECT_EQ(message->data, "tick " + std::to_string(ticks));
            ++ticks;
        } else {
            EXPECT_EQ(message->data, "echo " + std::to_string(echoes));
            ++echoes;
        }
    }
    EXPECT_EQ(ticks, 50);
    EXPECT_EQ(echoes, 20);
    EXPECT_FALSE(journal().wait("ticker", 0ms).has_value()) << *journal().wait("ticker", 0ms);
}

// Opens relay connections until one lands on another worker thread than `thread_of_a`.
std::optional<std::pair<WsClient, std::string>> RelayOnAnotherThread(std::uint16_t port,
                                                                     const std::string& other) {
    for (int i = 0; i < 24; ++i) {
        WsClient c;
        c.connect(port, "/fn/relay?name=b" + std::to_string(i));
        const WsEvent hello = c.receive();
        if (hello != ws_text(other))
            return std::make_pair(std::move(c), "b" + std::to_string(i));
    }
    return std::nullopt;
}

TEST_F(WebSocketTest, SendToConnectionOwnedByAnotherWorkerThread) {
    WsClient a = Connect("/fn/relay?name=a");
    const WsEvent hello_a = a.receive();
    ASSERT_TRUE(std::holds_alternative<WsMessage>(hello_a)) << hello_a;
    auto found = RelayOnAnotherThread(port(), std::get<WsMessage>(hello_a).data);
    ASSERT_TRUE(found.has_value()) << "24 connections all landed on a's worker thread";
    WsClient& b = found->first;
    const std::string b_name = found->second;

    b.send_text("to a hello from b");
    EXPECT_EQ(b.receive(), ws_text("sent"));
    EXPECT_EQ(a.receive(), ws_text("hello from b"));

    // Both at once: each connection gets its own acks and the other's messages, from two
    // threads, whole and in order.
    constexpr int kEach = 50;
    const auto talk = [](WsClient& self, const std::string& peer, const std::string& tag) {
        for (int i = 0; i < kEach; ++i)
            self.send_text("to " + peer + " " + tag + std::to_string(i));
        int acks = 0;
        int received = 0;
        while (acks < kEach || received < kEach) {
            const WsEvent event = self.receive();
            const auto* message = std::get_if<WsMessage>(&event);
            if (message == nullptr) {
                ADD_FAILURE() << event;
                return;
            }
            if (message->data == "sent") {
                ++acks;
            } else {
                EXPECT_EQ(message->data, (tag == "x" ? "y" : "x") + std::to_string(received));
                ++received;
            }
        }
    };
    std::thread from_b([&] { talk(b, "a", "y"); });
    talk(a, b_name, "x");
    from_b.join();
}

TEST_F(WebSocketTest, SendFromAThreadOutsideTheServer) {
    WsClient a = Connect("/fn/relay?name=outside");
    ASSERT_TRUE(std::holds_alternative<WsMessage>(a.receive()));
    std::optional<WebSocket> handle = find_peer("outside");
    ASSERT_TRUE(handle.has_value());
    EXPECT_EQ(handle->state(), WebSocket::State::connected);
    std::thread sender([handle]() mutable {
        for (int i = 0; i < 10; ++i)
            test::run(handle->send_text("from outside " + std::to_string(i)));
    });
    sender.join();
    for (int i = 0; i < 10; ++i)
        EXPECT_EQ(a.receive(), ws_text("from outside " + std::to_string(i)));
}

TEST_F(WebSocketTest, SendOnAStoredHandleAfterItsConnectionClosedThrowsDisconnect) {
    WsClient a = Connect("/fn/relay?name=leaver");
    ASSERT_TRUE(std::holds_alternative<WsMessage>(a.receive()));
    WsClient b = Connect("/fn/relay?name=stayer");
    ASSERT_TRUE(std::holds_alternative<WsMessage>(b.receive()));
    EXPECT_EQ(a.close(1000), (WsClosed{1000, {}}));
    ASSERT_EQ(journal().wait("relay-ended:leaver").value_or("<not recorded>"), "1000");

    b.send_text("to leaver anyone there?");
    EXPECT_EQ(b.receive(), ws_text("gone"));

    std::optional<WebSocket> handle = find_peer("leaver");
    ASSERT_TRUE(handle.has_value());
    EXPECT_EQ(handle->state(), WebSocket::State::closed);
    EXPECT_EQ(handle->close_code(), Code::normal);
    try {
        test::run(handle->send_text("late"));
        ADD_FAILURE() << "send on a closed connection did not throw";
    } catch (const WebSocketDisconnect& e) {
        EXPECT_EQ(e.code(), Code::normal);
    }
}

// A handle kept past the server's life (a stale entry in an app's registry) stays safe: the
// connection is closed, so sending throws WebSocketDisconnect, and dropping the handle is fine.
TEST_F(WebSocketTest, StoredHandleOutlivingTheServerIsSafe) {
    WsClient a = Connect("/fn/relay?name=outlives");
    ASSERT_TRUE(std::holds_alternative<WsMessage>(a.receive()));
    std::optional<WebSocket> handle = find_peer("outlives");
    ASSERT_TRUE(handle.has_value());
    EXPECT_EQ(a.close(1000).code, 1000);
    ASSERT_EQ(journal().wait("relay-ended:outlives").value_or("<not recorded>"), "1000");
    {
        std::lock_guard lock(registry_mutex);
        registry.clear();
    }
    server.reset();  // the handle is now the last owner of the connection
    EXPECT_EQ(handle->state(), WebSocket::State::closed);
    try {
        test::run(handle->send_text("after the server"));
        ADD_FAILURE() << "send after the server is gone did not throw";
    } catch (const WebSocketDisconnect& e) {
        EXPECT_EQ(e.code(), Code::normal);
    }
    handle.reset();
}

}  // namespace
}  // namespace flamecpp
