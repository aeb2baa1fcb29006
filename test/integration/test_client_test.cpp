// flamecpp::testing::TestClient against small apps: every feature an app's author relies on.
#include <chrono>
#include <stdexcept>
#include <thread>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <flamecpp/flamecpp.hpp>
#include <flamecpp/json.hpp>
#include <flamecpp/testing.hpp>

#include "http_client.hpp"

namespace flamecpp {
namespace {

using testing::ClientOptions;
using testing::TestClient;
using testing::TimeoutError;
using testing::WebSocketClosed;
using testing::WebSocketRejected;
using namespace std::chrono_literals;

Task<void> sleep_for(std::chrono::milliseconds d) {
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
    timer.expires_after(d);
    co_await timer.async_wait(boost::asio::use_awaitable);
}

boost::json::value echo(Request& r) {
    boost::json::object out;
    out["method"] = r.method_name();
    out["target"] = r.target();
    out["body"] = r.body();
    out["content_type"] = r.header("Content-Type").value_or("");
    out["x_token"] = r.header("X-Token").value_or("");
    out["user_agent"] = r.header("User-Agent").value_or("");
    return out;
}

App make_app() {
    App app;
    app.route("/echo", echo,
              {Method::get, Method::post, Method::put, Method::patch, Method::delete_});
    app.route("/boom", []() -> Response { throw std::runtime_error("boom from the handler"); });
    app.route("/teapot", []() -> Response { throw HTTPException(Status{418}, "short"); });
    app.route("/slow", []() -> Task<Response> {
        co_await sleep_for(2000ms);
        co_return Response::text("late");
    });
    app.route("/login", [](Query<"user"> user) {
        return Response::text("hi " + user.value)
            .set_cookie("session", "s-" + user.value, {.http_only = true})
            .set_cookie("theme", "dark", {.path = "/prefs"});
    });
    app.route("/logout", [] { return Response::text("bye").delete_cookie("session"); });
    app.route("/me", [](Cookie<"session", std::optional<std::string>> session) {
        return Response::text(session.value.value_or("<anonymous>"));
    });
    app.route("/prefs/theme", [](Request& r) {
        return Response::text(std::string(r.cookie("theme").value_or("<none>")));
    });
    app.route("/bad-cookie", [] { return Response::text("x").set_cookie("name", "has space"); });
    app.route("/go", [] { return Response::redirect("/echo?from=go", Status::found); });
    app.route("/see-other", [] { return Response::redirect("/echo", Status::see_other); },
              {Method::post});
    app.route("/keep", [] { return Response::redirect("/echo", Status::temporary_redirect); },
              {Method::post});
    app.route("/loop", [] { return Response::redirect("/loop"); });
    app.route("/away", [] { return Response::redirect("https://example.com/"); });
    app.limits().max_body_bytes = 64;
    app.limits().max_websocket_message_bytes = 64;

    app.websocket_route("/ws/echo", [](WebSocket& ws) -> Task<void> {
        // GCC 12: no ?: inside a co_await expression (it frees a temporary twice).
        std::string chosen;
        if (!ws.subprotocols().empty()) {
            chosen = ws.subprotocols().front();
        }
        co_await ws.accept(chosen);
        for (;;) {
            Data message = co_await ws.receive();
            if (message.str() == "bye") {
                co_await ws.close(Code::unsupported_data, "bye to you");
                co_return;
            }
            if (message.is_binary()) {
                co_await ws.send_bytes(message.str());
            } else {
                co_await ws.send_text(message.str());
            }
        }
    });
    app.websocket_route(
        "/ws/json",
        [](WebSocket& ws, Data data) -> Task<void> {
            boost::json::object reply;
            reply["got"] = data.json();
            co_await ws.send_json(reply);
        },
        Encoding::json);
    app.websocket_route("/ws/refuse", [](WebSocket& ws) -> Task<void> {
        co_await ws.close(Code::policy_violation);
    });
    app.websocket_route("/ws/silent", [](WebSocket& ws) -> Task<void> {
        co_await ws.accept();
        co_await sleep_for(1000ms);
    });
    app.websocket_route("/ws/throws", [](WebSocket& ws, Data) -> Task<void> {
        co_await ws.send_text("about to fail");
        throw std::logic_error("websocket handler failed");
    });
    app.websocket_route("/ws/cookie", [](WebSocket& ws) -> Task<void> {
        co_await ws.accept();
        co_await ws.send_text(std::string(ws.request().cookie("session").value_or("<none>")));
    });
    return app;
}

ClientOptions quiet() {
    ClientOptions o;
    o.log_level = LogLevel::off;
    return o;
}

// --- HTTP --------------------------------------------------------------------------------------

TEST(TestClient, SendsMethodQueryHeadersAndJsonBody) {
    TestClient client(make_app(), quiet());
    auto r = client.post("/echo?a=1", {.query = {{"q", "milk & honey"}},
                                       .headers = {{"X-Token", "t0k"}},
                                       .json = {{"name", "milk"}, {"count", 2}}});
    EXPECT_EQ(r.status, 200);
    EXPECT_TRUE(r.ok());
    EXPECT_EQ(r.header("content-type"), "application/json");
    auto body = r.json();
    EXPECT_EQ(body.at("method"), "POST");
    EXPECT_EQ(body.at("target"), "/echo?a=1&q=milk%20%26%20honey");
    EXPECT_EQ(boost::json::parse(body.at("body").as_string()),
              boost::json::parse(R"({"name":"milk","count":2})"));
    EXPECT_EQ(body.at("content_type"), "application/json");
    EXPECT_EQ(body.at("x_token"), "t0k");
    EXPECT_EQ(r.url, "/echo?a=1&q=milk%20%26%20honey");
}

TEST(TestClient, EveryVerbHelperSendsItsMethod) {
    TestClient client(make_app(), quiet());
    EXPECT_EQ(client.get("/echo").json().at("method"), "GET");
    EXPECT_EQ(client.put("/echo", {.body = "x"}).json().at("method"), "PUT");
    EXPECT_EQ(client.patch("/echo", {.body = "x"}).json().at("method"), "PATCH");
    EXPECT_EQ(client.delete_("/echo").json().at("method"), "DELETE");
    EXPECT_EQ(client.request("PROPFIND", "/echo").status, 405);
    auto head = client.head("/echo");
    EXPECT_EQ(head.status, 200);
    EXPECT_TRUE(head.body.empty());
    auto options = client.options("/echo");
    EXPECT_EQ(options.header("Allow"), "GET, HEAD, POST, PUT, PATCH, DELETE");
}

TEST(TestClient, RawBodiesAndHeaderOverrides) {
    ClientOptions o = quiet();
    o.headers = {{"X-Token", "from-client"}};
    TestClient client(make_app(), o);
    auto r = client.post("/echo", {.headers = {{"Content-Type", "text/csv"}}, .body = "a,b\n1,2"});
    EXPECT_EQ(r.json().at("body"), "a,b\n1,2");
    EXPECT_EQ(r.json().at("content_type"), "text/csv");
    EXPECT_EQ(r.json().at("x_token"), "from-client");
    EXPECT_EQ(r.json().at("user_agent"), "flamecpp-testclient");
    auto overridden = client.get("/echo", {.headers = {{"x-token", "per-call"}}});
    EXPECT_EQ(overridden.json().at("x_token"), "per-call");
    EXPECT_THROW(client.post("/echo", {.body = "a", .json = {{"b", 1}}}), std::invalid_argument);
}

TEST(TestClient, JsonIsParsedOnceAndLivesAsLongAsTheResponse) {
    TestClient client(make_app(), quiet());
    auto r = client.post("/echo", {.json = {{"items", boost::json::array{1, 2, 3}}}});
    // The value json() returns belongs to the response, so a range-for over a part of it is
    // safe (a value returned per call would be destroyed before the loop's body).
    EXPECT_EQ(&r.json(), &r.json());
    EXPECT_EQ(r.json().at("body"), R"({"items":[1,2,3]})");
    std::int64_t sum = 0;
    flamecpp::testing::TestResponse list = client.post("/echo", {.body = "[1,2,3]"});
    list.body = list.json().at("body").as_string();    // the echoed body itself
    for (const auto& item : list.json().as_array()) {  // ASan reports it if this dangles
        sum += item.as_int64();
    }
    EXPECT_EQ(sum, 6);
    // Changing the body parses it again; a copy keeps the value it had.
    flamecpp::testing::TestResponse copy = r;
    r.body = R"({"changed": true})";
    EXPECT_TRUE(r.json().at("changed").as_bool());
    EXPECT_TRUE(copy.json().as_object().contains("body"));
    // On a temporary response, the value itself.
    boost::json::value moved = client.get("/echo").json();
    EXPECT_EQ(moved.at("method"), "GET");
    r.body = "not json";
    EXPECT_THROW(r.json(), std::runtime_error);
}

TEST(TestClient, PathsAreEncodedWhenTheyNeedIt) {
    TestClient client(make_app(), quiet());
    EXPECT_EQ(client.get("/echo?x=a b").json().at("target"), "/echo?x=a%20b");
    EXPECT_THROW(client.get("echo"), std::invalid_argument);
}

TEST(TestClient, TheRealParserAnswersOversizedBodies) {
    TestClient client(make_app(), quiet());
    auto r = client.post("/echo", {.body = std::string(65, 'x')});
    EXPECT_EQ(r.status, 413);
    EXPECT_EQ(client.post("/echo", {.body = std::string(64, 'x')}).status, 200);
}

TEST(TestClient, HTTPExceptionIsAnAnswerNotAServerError) {
    TestClient client(make_app(), quiet());
    auto r = client.get("/teapot");
    EXPECT_EQ(r.status, 418);
    EXPECT_EQ(r.json().at("detail"), "short");
}

TEST(TestClient, JsonOfANonJsonBodyExplains) {
    TestClient client(make_app(), quiet());
    auto r = client.get("/me");
    try {
        (void)r.json();
        FAIL() << "json() accepted a text body";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("<anonymous>"), std::string::npos) << e.what();
    }
}

// --- Server exceptions ---------------------------------------------------------------------------

TEST(TestClient, HandlerExceptionIsRaisedInTheTest) {
    TestClient client(make_app(), quiet());
    try {
        client.get("/boom");
        FAIL() << "the handler's exception did not reach the test";
    } catch (const std::runtime_error& e) {
        EXPECT_STREQ(e.what(), "boom from the handler");
    }
    // Raised once; the client goes on.
    EXPECT_EQ(client.get("/echo").status, 200);
}

TEST(TestClient, WithoutRaisingTheTestSeesThe500) {
    ClientOptions o = quiet();
    o.raise_server_exceptions = false;
    TestClient client(make_app(), o);
    auto r = client.get("/boom");
    EXPECT_EQ(r.status, 500);
    EXPECT_EQ(r.text(), "Internal Server Error");
}

TEST(TestClient, AnInvalidCookieFromAHandlerIsAServerError) {
    TestClient client(make_app(), quiet());
    EXPECT_THROW(client.get("/bad-cookie"), std::invalid_argument);
}

// --- Cookies ---------------------------------------------------------------------------------

TEST(TestClient, CookiesPersistAcrossCallsLikeABrowser) {
    TestClient client(make_app(), quiet());
    EXPECT_EQ(client.get("/me").text(), "<anonymous>");
    auto login = client.get("/login", {.query = {{"user", "ann"}}});
    EXPECT_EQ(login.header_values("Set-Cookie").size(), 2u);
    EXPECT_EQ(client.cookies().get("session"), "s-ann");
    EXPECT_EQ(client.get("/me").text(), "s-ann");
    // A cookie with Path=/prefs goes to /prefs/... only.
    EXPECT_EQ(client.get("/prefs/theme").text(), "dark");
    EXPECT_EQ(client.get("/echo").json().at("target"), "/echo");
    client.get("/logout");
    EXPECT_FALSE(client.cookies().get("session"));
    EXPECT_EQ(client.get("/me").text(), "<anonymous>");
}

TEST(TestClient, CookiesCanBeSetByHand) {
    TestClient client(make_app(), quiet());
    client.cookies().set("session", "handmade");
    EXPECT_EQ(client.get("/me").text(), "handmade");
    client.cookies().clear();
    EXPECT_EQ(client.get("/me").text(), "<anonymous>");
}

// --- Redirects -------------------------------------------------------------------------------

TEST(TestClient, RedirectsAreNotFollowedByDefault) {
    TestClient client(make_app(), quiet());
    auto r = client.get("/go");
    EXPECT_EQ(r.status, 302);
    EXPECT_EQ(r.header("Location"), "/echo?from=go");
}

TEST(TestClient, FollowedRedirectsEndAtTheTarget) {
    TestClient client(make_app(), quiet());
    auto r = client.get("/go", {.follow_redirects = true});
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.url, "/echo?from=go");
    EXPECT_EQ(r.redirects, 1);

    auto see_other = client.post("/see-other", {.body = "payload", .follow_redirects = true});
    EXPECT_EQ(see_other.json().at("method"), "GET");
    EXPECT_EQ(see_other.json().at("body"), "");

    auto kept = client.post("/keep", {.body = "payload", .follow_redirects = true});
    EXPECT_EQ(kept.json().at("method"), "POST");
    EXPECT_EQ(kept.json().at("body"), "payload");
}

TEST(TestClient, RedirectLoopsAndForeignHostsStop) {
    ClientOptions o = quiet();
    o.follow_redirects = true;
    TestClient client(make_app(), o);
    EXPECT_THROW(client.get("/loop"), std::runtime_error);
    auto away = client.get("/away");
    EXPECT_EQ(away.status, 307);
    EXPECT_EQ(away.header("Location"), "https://example.com/");
}

// --- Timeouts and connections ------------------------------------------------------------------

TEST(TestClient, ASlowHandlerTimesOutTheCall) {
    TestClient client(make_app(), quiet());
    auto start = std::chrono::steady_clock::now();
    EXPECT_THROW(client.get("/slow", {.timeout = 200ms}), TimeoutError);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 1500ms);
    EXPECT_EQ(client.get("/echo").status, 200);  // a new connection
}

TEST(TestClient, AConnectionTheServerClosedIsReplaced) {
    App app = make_app();
    app.limits().idle_timeout = 200ms;
    TestClient client(app, quiet());
    EXPECT_EQ(client.get("/echo").status, 200);
    std::this_thread::sleep_for(700ms);  // the server closes the idle connection
    EXPECT_EQ(client.get("/echo").status, 200);
}

TEST(TestClient, TheServerLivesAsLongAsTheClient) {
    std::uint16_t port = 0;
    {
        TestClient client(make_app(), quiet());
        port = client.port();
        EXPECT_EQ(test::http_get(port, "/echo").status, 200);
    }
    EXPECT_THROW(test::RawConnection{port}, std::runtime_error);
}

TEST(TestClient, CallsAfterCloseAreRefused) {
    TestClient client(make_app(), quiet());
    client.close();
    EXPECT_THROW(client.get("/echo"), std::logic_error);
}

TEST(TestClient, StartupErrorsReachTheTest) {
    struct Missing : Component {};
    App app;
    app.route("/", [](Missing&) { return Response::text("x"); });
    EXPECT_THROW(TestClient{std::move(app)}, std::invalid_argument);
}

// --- WebSockets --------------------------------------------------------------------------------

TEST(TestClientWebSocket, EchoesTextAndBytesWithASubprotocol) {
    TestClient client(make_app(), quiet());
    auto ws = client.websocket_connect("/ws/echo", {"chat.v2", "chat.v1"});
    EXPECT_EQ(ws.subprotocol(), "chat.v2");
    ws.send_text("hello");
    EXPECT_EQ(ws.receive_text(), "hello");
    ws.send_bytes(std::string("\x00\x01", 2));
    EXPECT_EQ(ws.receive_bytes(), std::string("\x00\x01", 2));
    ws.send_text("text");
    EXPECT_THROW(ws.receive_bytes(), std::runtime_error);
    EXPECT_EQ(ws.close(), 1000);
    EXPECT_FALSE(ws.is_open());
}

TEST(TestClientWebSocket, JsonInAndOut) {
    TestClient client(make_app(), quiet());
    auto ws = client.websocket_connect("/ws/json");
    ws.send_json({{"n", 1}});
    EXPECT_EQ(ws.receive_json(), boost::json::parse(R"({"got":{"n":1}})"));
}

TEST(TestClientWebSocket, AServerCloseCarriesItsCode) {
    TestClient client(make_app(), quiet());
    auto ws = client.websocket_connect("/ws/echo");
    ws.send_text("bye");
    try {
        ws.receive_text();
        FAIL() << "no close";
    } catch (const WebSocketClosed& e) {
        EXPECT_EQ(e.code(), 1003);
        EXPECT_EQ(e.reason(), "bye to you");
    }
    EXPECT_EQ(ws.close_code(), 1003);
    EXPECT_THROW(ws.send_text("again"), WebSocketClosed);
}

TEST(TestClientWebSocket, TheAppsMessageLimitCloses1009) {
    TestClient client(make_app(), quiet());
    auto ws = client.websocket_connect("/ws/json");
    ws.send_text(std::string(65, ' '));
    try {
        ws.receive();
        FAIL() << "no close";
    } catch (const WebSocketClosed& e) {
        EXPECT_EQ(e.code(), 1009);
    }
}

TEST(TestClientWebSocket, ARefusedHandshakeIsAnHttpAnswer) {
    TestClient client(make_app(), quiet());
    try {
        client.websocket_connect("/ws/refuse");
        FAIL() << "the handshake succeeded";
    } catch (const WebSocketRejected& e) {
        EXPECT_EQ(e.status(), 403);
    }
    try {
        client.websocket_connect("/nowhere");
        FAIL() << "the handshake succeeded";
    } catch (const WebSocketRejected& e) {
        EXPECT_EQ(e.status(), 404);
    }
}

TEST(TestClientWebSocket, AReceiveFromASilentServerTimesOut) {
    ClientOptions o = quiet();
    o.timeout = 300ms;
    TestClient client(make_app(), o);
    auto ws = client.websocket_connect("/ws/silent");
    auto start = std::chrono::steady_clock::now();
    try {
        ws.receive_text();
        FAIL() << "no timeout";
    } catch (const TimeoutError& e) {
        EXPECT_NE(std::string(e.what()).find("/ws/silent"), std::string::npos) << e.what();
    }
    EXPECT_LT(std::chrono::steady_clock::now() - start, 1500ms);
    EXPECT_FALSE(ws.is_open());
    // A per-call timeout overrides the client's.
    auto again = client.websocket_connect("/ws/silent");
    EXPECT_THROW(again.receive(50ms), TimeoutError);
}

TEST(TestClientWebSocket, AHandlerExceptionIsRaisedInTheTest) {
    TestClient client(make_app(), quiet());
    auto ws = client.websocket_connect("/ws/throws");
    ws.send_text("x");
    EXPECT_EQ(ws.receive_text(), "about to fail");
    EXPECT_THROW(ws.receive_text(), std::logic_error);
}

TEST(TestClientWebSocket, WithoutRaisingTheTestSees1011) {
    ClientOptions o = quiet();
    o.raise_server_exceptions = false;
    TestClient client(make_app(), o);
    auto ws = client.websocket_connect("/ws/throws");
    ws.send_text("x");
    EXPECT_EQ(ws.receive_text(), "about to fail");
    try {
        ws.receive_text();
        FAIL() << "no close";
    } catch (const WebSocketClosed& e) {
        EXPECT_EQ(e.code(), 1011);
    }
}

TEST(TestClientWebSocket, CookiesGoWithTheUpgrade) {
    TestClient client(make_app(), quiet());
    client.get("/login", {.query = {{"user", "bob"}}});
    auto ws = client.websocket_connect("/ws/cookie");
    EXPECT_EQ(ws.receive_text(), "s-bob");
}

// --- run() -----------------------------------------------------------------------------------

Task<int> add_later(int a, int b) {
    co_await sleep_for(10ms);
    co_return a + b;
}

Task<void> fail_later() {
    co_await sleep_for(1ms);
    throw std::out_of_range("later");
}

TEST(TestingRun, RunsACoroutineToItsResult) {
    EXPECT_EQ(testing::run(add_later(2, 3)), 5);
    EXPECT_THROW(testing::run(fail_later()), std::out_of_range);
    EXPECT_THROW(testing::run(sleep_for(1000ms), 50ms), TimeoutError);
}

}  // namespace
}  // namespace flamecpp
