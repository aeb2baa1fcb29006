// App middleware over a real server: order, early answers, every kind of answer (404, 405,
// OPTIONS, 500, HEAD), the WebSocket handshake, injection, and middleware that fail.
#include <atomic>
#include <memory>
#include <regex>
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

#include <flamecpp/builtin_middleware.hpp>
#include <flamecpp/flamecpp.hpp>
#include <flamecpp/testing.hpp>

namespace flamecpp {
namespace {

using testing::ClientOptions;
using testing::TestClient;
using testing::WebSocketRejected;

ClientOptions quiet() {
    ClientOptions o;
    o.log_level = LogLevel::off;
    return o;
}

/// Counts the calls of the handlers, to see that an early answer skips them.
struct Calls : Component {
    std::atomic<int> handler{0};
    std::atomic<int> outer{0};
};

/// The outer layer: tags every answer, and sees the inner layer's tag already there.
Task<Response> outer(Request& request, Calls& calls, Next next) {
    ++calls.outer;
    auto response = co_await next();
    response.with_header("X-Outer", "saw inner=" + std::string(response.header("X-Inner")));
    response.with_header("X-Route", std::string(request.route()));
    co_return response;
}

/// The inner layer: answers 401 itself when asked to, else passes the request on.
Task<Response> inner(Header<"X-Deny", std::optional<std::string>> deny, Next next) {
    if (deny.value) {
        co_return Response::text("denied by middleware", Status::unauthorized);
    }
    auto response = co_await next();
    response.with_header("X-Inner", "1");
    co_return response;
}

App make_app() {
    App app;
    auto calls = std::make_shared<Calls>();
    app.component(calls);
    app.middleware(outer);
    app.middleware(inner);
    app.route("/hello", [](Calls& c) {
        ++c.handler;
        return Response::text("hello");
    });
    app.route("/items/{id:int}", [](Path<"id", int> id) { return std::to_string(*id); });
    app.route("/boom", []() -> Response { throw std::runtime_error("boom"); });
    app.route("/teapot", []() -> Response { throw HTTPException(Status{418}, "short and stout"); });
    app.route("/calls", [](Calls& c) { return std::to_string(c.handler.load()); });
    app.websocket_route("/ws", [](WebSocket& ws) -> Task<void> {
        co_await ws.accept();
        co_await ws.send_text("hi");
    });
    app.websocket_route("/ws/refused", [](WebSocket&) -> Task<void> { co_return; });
    return app;
}

TEST(Middleware, RunsInRegistrationOrderAroundTheHandler) {
    TestClient client(make_app(), quiet());
    auto r = client.get("/hello");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.text(), "hello");
    EXPECT_EQ(r.header("X-Inner"), "1");
    EXPECT_EQ(r.header("X-Outer"), "saw inner=1");
    EXPECT_EQ(r.header("X-Route"), "/hello");
}

TEST(Middleware, MayAnswerWithoutCallingTheRest) {
    TestClient client(make_app(), quiet());
    auto r = client.get("/hello", {.headers = {{"X-Deny", "yes"}}});
    EXPECT_EQ(r.status, 401);
    EXPECT_EQ(r.text(), "denied by middleware");
    EXPECT_EQ(r.header("X-Outer"), "saw inner=");  // the outer layer still saw the answer
    EXPECT_EQ(client.get("/calls").text(), "0");   // the handler never ran
}

TEST(Middleware, SeesEveryAnswerTheAppGives) {
    TestClient client(make_app(),
                      ClientOptions{.raise_server_exceptions = false, .log_level = LogLevel::off});
    auto not_found = client.get("/nowhere");
    EXPECT_EQ(not_found.status, 404);
    EXPECT_EQ(not_found.header("X-Outer"), "saw inner=1");
    EXPECT_EQ(not_found.header("X-Route").value_or(""), "");

    auto bad_int = client.get("/items/x");  // the convertor does not match: 404
    EXPECT_EQ(bad_int.status, 404);
    EXPECT_EQ(bad_int.header("X-Inner"), "1");

    auto not_allowed = client.post("/hello");
    EXPECT_EQ(not_allowed.status, 405);
    EXPECT_EQ(not_allowed.header("Allow"), "GET, HEAD");
    EXPECT_EQ(not_allowed.header("X-Inner"), "1");

    auto options = client.options("/hello");  // CORS preflight must be able to pass here
    EXPECT_EQ(options.status, 204);
    EXPECT_EQ(options.header("X-Inner"), "1");

    auto error = client.get("/boom");
    EXPECT_EQ(error.status, 500);
    EXPECT_EQ(error.header("X-Inner"), "1");

    auto teapot = client.get("/teapot");
    EXPECT_EQ(teapot.status, 418);
    EXPECT_EQ(teapot.header("X-Inner"), "1");

    auto head = client.head("/hello");
    EXPECT_EQ(head.status, 200);
    EXPECT_EQ(head.text(), "");
    EXPECT_EQ(head.header("X-Inner"), "1");
    EXPECT_EQ(head.header("Content-Length"), "5");
}

TEST(Middleware, PutsItsHeadersOnTheWebSocketHandshake) {
    TestClient client(make_app(), quiet());
    auto ws = client.websocket_connect("/ws");
    EXPECT_EQ(ws.header("X-Inner"), "1");
    EXPECT_EQ(ws.header("X-Outer"), "saw inner=1");
    EXPECT_EQ(ws.header("X-Route"), "/ws");
    EXPECT_EQ(ws.receive_text(), "hi");
}

TEST(Middleware, CanRefuseAWebSocketUpgradeWithAnHttpAnswer) {
    TestClient client(make_app(), quiet());
    try {
        client.websocket_connect("/ws", {}, {{"X-Deny", "yes"}});
        FAIL() << "the upgrade should have been refused";
    } catch (const WebSocketRejected& e) {
        EXPECT_EQ(e.status(), 401);
    }
    // A handler that never accepts: the 403 carries the middleware's headers too.
    try {
        client.websocket_connect("/ws/refused");
        FAIL() << "the upgrade should have been refused";
    } catch (const WebSocketRejected& e) {
        EXPECT_EQ(e.status(), 403);
        EXPECT_EQ(e.header("X-Inner"), "1");
        EXPECT_EQ(e.header("X-Outer"), "saw inner=1");
    }
}

TEST(Middleware, APlainFunctionMayHandTheRestOn) {
    App app;
    app.middleware([](Next next) { return next(); });  // not a coroutine itself
    app.middleware([](Request& request, Next next) -> Task<Response> {
        if (request.target() == "/early") {
            co_return Response::text("early");
        }
        co_return co_await next();
    });
    app.route("/x", [] { return "x"; });
    TestClient client(std::move(app), quiet());
    EXPECT_EQ(client.get("/x").text(), "x");
    EXPECT_EQ(client.get("/early").text(), "early");
}

/// A per-request component: the middleware and the handler of one request share it.
struct RequestTag : Component {
    std::string value;
};

TEST(Middleware, SharesPerRequestComponentsWithTheHandler) {
    App app;
    auto made = std::make_shared<std::atomic<int>>(0);
    app.component<RequestTag>([made] {
        RequestTag tag;
        tag.value = "tag-" + std::to_string(++*made);
        return tag;
    });
    app.middleware([](RequestTag& tag, Next next) -> Task<Response> {
        tag.value += "+mw";
        auto response = co_await next();
        response.with_header("X-Tag", tag.value);
        co_return response;
    });
    app.route("/tag", [](RequestTag& tag) { return tag.value; });
    TestClient client(std::move(app), quiet());
    auto first = client.get("/tag");
    EXPECT_EQ(first.text(), "tag-1+mw");
    EXPECT_EQ(first.header("X-Tag"), "tag-1+mw");
    EXPECT_EQ(client.get("/tag").text(), "tag-2+mw");
}

TEST(Middleware, AMissingComponentStopsTheServerBeforeItListens) {
    struct Unregistered : Component {};
    App app;
    app.middleware([](Unregistered&, Next next) { return next(); });
    app.route("/", [] { return "x"; });
    try {
        TestClient client(std::move(app), quiet());
        FAIL() << "the server should not start";
    } catch (const std::exception& e) {
        EXPECT_NE(std::string(e.what()).find("middleware #1 needs the component"),
                  std::string::npos)
            << e.what();
    }
}

TEST(Middleware, AnExceptionInAMiddlewareIsA500AndTheServerGoesOn) {
    App app;
    app.middleware([](Request& request, Next next) -> Task<Response> {
        if (request.target() == "/throw-before") {
            throw std::runtime_error("before next");
        }
        auto response = co_await next();
        if (request.target() == "/throw-after") {
            throw std::runtime_error("after next");
        }
        if (request.target() == "/twice") {
            co_await next();
        }
        if (request.target() == "/http") {
            throw HTTPException(Status::forbidden, "no entry");
        }
        co_return response;
    });
    app.route("/{any:path}", [] { return "fine"; });
    TestClient client(std::move(app),
                      ClientOptions{.raise_server_exceptions = false, .log_level = LogLevel::off});
    EXPECT_EQ(client.get("/throw-before").status, 500);
    EXPECT_EQ(client.get("/throw-after").status, 500);
    EXPECT_EQ(client.get("/twice").status, 500);
    auto http = client.get("/http");
    EXPECT_EQ(http.status, 403);
    EXPECT_EQ(http.json().at("detail"), "no entry");
    EXPECT_EQ(client.get("/ok").text(), "fine");
}

TEST(Middleware, AnExceptionInAMiddlewareReachesTheTestClient) {
    App app;
    app.middleware([](Next) -> Task<Response> { throw std::runtime_error("middleware bug"); });
    app.route("/", [] { return "x"; });
    TestClient client(std::move(app), quiet());
    EXPECT_THROW(client.get("/"), std::runtime_error);
}

// --- Built-in middleware -----------------------------------------------------------------

App builtin_app() {
    App app;
    app.middleware(RequestID{});
    app.middleware(TrustedHost{{"testserver", "*.example.com"}});
    app.route("/", [] { return "home"; });
    app.route("/boom", []() -> Response { throw std::runtime_error("boom"); });
    app.websocket_route("/ws", [](WebSocket& ws) -> Task<void> { co_await ws.accept(); });
    return app;
}

bool is_uuid4(const std::string& id) {
    static const std::regex uuid4(
        "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
    return std::regex_match(id, uuid4);
}

TEST(RequestIDMiddleware, KeepsAGoodIdAndMakesAFreshOneOtherwise) {
    TestClient client(builtin_app(),
                      ClientOptions{.raise_server_exceptions = false, .log_level = LogLevel::off});
    EXPECT_EQ(
        client.get("/", {.headers = {{"X-Request-ID", "abc-123_X.y"}}}).header("X-Request-ID"),
        "abc-123_X.y");
    auto fresh = client.get("/").header("X-Request-ID").value_or("");
    EXPECT_TRUE(is_uuid4(fresh)) << fresh;
    EXPECT_NE(client.get("/").header("X-Request-ID"), fresh);
    auto replaced = client.get("/", {.headers = {{"X-Request-ID", std::string(65, 'a')}}});
    EXPECT_TRUE(is_uuid4(replaced.header("X-Request-ID").value_or("")))
        << replaced.header("X-Request-ID").value_or("");
    auto bad = client.get("/", {.headers = {{"X-Request-ID", "a;b"}}});
    EXPECT_TRUE(is_uuid4(bad.header("X-Request-ID").value_or("")));
    // Every answer: 404, 500, the TrustedHost refusal (RequestID is outside it).
    EXPECT_TRUE(is_uuid4(client.get("/nowhere").header("X-Request-ID").value_or("")));
    EXPECT_TRUE(is_uuid4(client.get("/boom").header("X-Request-ID").value_or("")));
    auto refused = client.get("/", {.headers = {{"Host", "evil.net"}}});
    EXPECT_EQ(refused.status, 400);
    EXPECT_TRUE(is_uuid4(refused.header("X-Request-ID").value_or("")));
    EXPECT_EQ(refused.header_values("X-Request-ID").size(), 1u);
}

TEST(RequestIDMiddleware, IsOnTheWebSocketHandshake) {
    TestClient client(builtin_app(), quiet());
    auto ws = client.websocket_connect("/ws", {}, {{"X-Request-ID", "ws-1"}});
    EXPECT_EQ(ws.header("X-Request-ID"), "ws-1");
}

TEST(TrustedHostMiddleware, RefusesOtherHostsAndTheirUpgrades) {
    TestClient client(builtin_app(), quiet());
    EXPECT_EQ(client.get("/").text(), "home");  // Host: testserver
    EXPECT_EQ(client.get("/", {.headers = {{"Host", "testserver:8000"}}}).status, 200);
    EXPECT_EQ(client.get("/", {.headers = {{"Host", "api.example.com"}}}).status, 200);
    auto refused = client.get("/", {.headers = {{"Host", "example.com"}}});
    EXPECT_EQ(refused.status, 400);
    EXPECT_EQ(refused.text(), "Invalid host header");
    EXPECT_EQ(refused.header("Content-Type"), "text/plain; charset=utf-8");
    try {
        client.websocket_connect("/ws", {}, {{"Host", "evil.net"}});
        FAIL() << "the upgrade should have been refused";
    } catch (const WebSocketRejected& e) {
        EXPECT_EQ(e.status(), 400);
    }
}

}  // namespace
}  // namespace flamecpp
