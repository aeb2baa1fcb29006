// Exception handlers over a real server: by type (the most derived registered type wins), by
// status (the app's own 404 and 405 too, and 500 for what nobody handles), HTTPException
// headers, injection, coroutine handlers, and handlers that fail.
#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>

#include <boost/json/value.hpp>
#include <gtest/gtest.h>

#include <flamecpp/flamecpp.hpp>
#include <flamecpp/json.hpp>
#include <flamecpp/testing.hpp>

namespace flamecpp {
namespace {

using testing::ClientOptions;
using testing::TestClient;

ClientOptions lenient() {
    ClientOptions o;
    o.raise_server_exceptions = false;
    o.log_level = LogLevel::off;
    return o;
}

struct Teapot : std::runtime_error {
    Teapot() : std::runtime_error("I'm a teapot") {}
};

struct StorageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};
struct MissingRow : StorageError {
    using StorageError::StorageError;
};
struct MissingUser : MissingRow {
    using MissingRow::MissingRow;
};

struct Hits : Component {
    std::atomic<int> handled{0};
};

App make_app(bool derived_first) {
    App app;
    app.component(std::make_shared<Hits>());
    app.route("/teapot", []() -> Response { throw Teapot(); });
    app.route("/storage", []() -> Response { throw StorageError("disk"); });
    app.route("/row", []() -> Response { throw MissingRow("row 7"); });
    app.route("/user", []() -> Response { throw MissingUser("user 9"); });
    app.route("/boom", []() -> Response { throw std::logic_error("a bug"); });
    app.route("/admin", []() -> Response {
        throw HTTPException(Status::unauthorized, "who are you?",
                            {{"WWW-Authenticate", "Basic realm=\"site\""}});
    });
    app.route("/gone", []() -> Response { throw HTTPException(Status::gone, "moved on"); });
    app.route("/items", [] { return "items"; }, {Method::get, Method::post});

    app.exception_handler<Teapot>([](const Teapot& e, Hits& hits) {
        ++hits.handled;
        return Response::json(boost::json::value{{"detail", e.what()}}, Status{418});
    });
    auto by_row = [](const MissingRow& e) -> Task<Response> {  // a coroutine handler
        co_return Response::text(std::string("missing: ") + e.what(), Status::not_found);
    };
    auto by_storage = [](Request& request, const StorageError& e) {
        return Response::text(
            "storage failed on " + std::string(request.target()) + ": " + e.what(),
            Status::service_unavailable);
    };
    if (derived_first) {
        app.exception_handler<MissingRow>(by_row);
        app.exception_handler<StorageError>(by_storage);
    } else {
        app.exception_handler<StorageError>(by_storage);
        app.exception_handler<MissingRow>(by_row);
    }
    app.exception_handler(Status::not_found, [](const HTTPException& e) {
        return Response::html("<h1>" + e.detail() + "</h1>", Status::not_found);
    });
    app.exception_handler(Status::method_not_allowed, [](const HTTPException& e) {
        std::string allow;
        for (const auto& [name, value] : e.headers()) {
            if (name == "Allow") {
                allow = value;
            }
        }
        return Response::text("try " + allow, Status::method_not_allowed)
            .with_header("Allow", allow);
    });
    app.exception_handler(Status::internal_server_error, [] {
        return Response::json(boost::json::value{{"detail", "Internal Server Error"}},
                              Status::internal_server_error);
    });
    return app;
}

TEST(ExceptionHandlers, ByTypeWithInjectedParameters) {
    TestClient client(make_app(true), lenient());
    auto r = client.get("/teapot");
    EXPECT_EQ(r.status, 418);
    EXPECT_EQ(r.json().at("detail"), "I'm a teapot");
}

/// Made for each request that asks for it.
struct Attempt : Component {
    int number = 0;
};

// What an exception or status handler makes for one request is not the next request's: the
// handlers of a plain function's exception and of a 404 each get a fresh one, on one
// keep-alive connection.
TEST(ExceptionHandlers, APerRequestComponentTheyTakeIsMadeForEachRequest) {
    App app;
    auto made = std::make_shared<std::atomic<int>>(0);
    app.component<Attempt>([made] {
        Attempt attempt;
        attempt.number = ++*made;
        return attempt;
    });
    app.route("/teapot", []() -> Response { throw Teapot(); });
    app.exception_handler<Teapot>([](const Teapot&, Attempt& attempt) {
        return Response::text("teapot " + std::to_string(attempt.number), Status{418});
    });
    app.exception_handler(Status::not_found, [](Attempt& attempt) {
        return Response::text("missing " + std::to_string(attempt.number), Status::not_found);
    });
    TestClient client(std::move(app), lenient());
    EXPECT_EQ(client.get("/teapot").text(), "teapot 1");
    EXPECT_EQ(client.get("/teapot").text(), "teapot 2");
    EXPECT_EQ(client.get("/nowhere").text(), "missing 3");
    EXPECT_EQ(client.get("/nowhere").text(), "missing 4");
    EXPECT_EQ(client.get("/teapot").text(), "teapot 5");
}

class MostDerived : public ::testing::TestWithParam<bool> {};

TEST_P(MostDerived, WinsWhateverTheRegistrationOrder) {
    TestClient client(make_app(GetParam()), lenient());
    auto storage = client.get("/storage");
    EXPECT_EQ(storage.status, 503);
    EXPECT_EQ(storage.text(), "storage failed on /storage: disk");
    auto row = client.get("/row");
    EXPECT_EQ(row.status, 404);
    EXPECT_EQ(row.text(), "missing: row 7");
    auto user = client.get("/user");  // no handler of its own: its nearest base's
    EXPECT_EQ(user.status, 404);
    EXPECT_EQ(user.text(), "missing: user 9");
}

INSTANTIATE_TEST_SUITE_P(Order, MostDerived, ::testing::Values(true, false));

TEST(ExceptionHandlers, ByStatusMakeTheAppsOwnAnswers) {
    TestClient client(make_app(true), lenient());
    auto missing = client.get("/nowhere");
    EXPECT_EQ(missing.status, 404);
    EXPECT_EQ(missing.header("Content-Type"), "text/html; charset=utf-8");
    EXPECT_EQ(missing.text(), "<h1>Not Found</h1>");

    auto not_allowed = client.delete_("/items");
    EXPECT_EQ(not_allowed.status, 405);
    EXPECT_EQ(not_allowed.text(), "try GET, HEAD, POST");
    EXPECT_EQ(not_allowed.header("Allow"), "GET, HEAD, POST");

    auto options = client.options("/items");  // not an error: no handler involved
    EXPECT_EQ(options.status, 204);
}

TEST(ExceptionHandlers, TheHandlerFor500AnswersWhatNobodyHandlesAfterItIsLogged) {
    TestClient client(make_app(true), lenient());
    auto r = client.get("/boom");
    EXPECT_EQ(r.status, 500);
    EXPECT_EQ(r.json().at("detail"), "Internal Server Error");
    EXPECT_EQ(client.get("/items").text(), "items");  // the server goes on
}

TEST(ExceptionHandlers, AnUnhandledExceptionStillReachesTheTestClient) {
    TestClient client(make_app(true), ClientOptions{.log_level = LogLevel::off});
    EXPECT_THROW(client.get("/boom"), std::logic_error);
}

TEST(ExceptionHandlers, HTTPExceptionCarriesItsHeaders) {
    App app;
    app.route("/admin", []() -> Response {
        throw HTTPException(Status::unauthorized, "who are you?",
                            {{"WWW-Authenticate", "Basic realm=\"site\""}});
    });
    TestClient client(std::move(app), lenient());
    auto r = client.get("/admin");
    EXPECT_EQ(r.status, 401);
    EXPECT_EQ(r.header("WWW-Authenticate"), "Basic realm=\"site\"");
    EXPECT_EQ(r.json().at("detail"), "who are you?");
}

TEST(ExceptionHandlers, AnHTTPExceptionWithoutAHandlerKeepsItsDefaultAnswer) {
    TestClient client(make_app(true), lenient());
    auto gone = client.get("/gone");
    EXPECT_EQ(gone.status, 410);
    EXPECT_EQ(gone.json().at("detail"), "moved on");
    auto admin = client.get("/admin");
    EXPECT_EQ(admin.status, 401);
    EXPECT_EQ(admin.header("WWW-Authenticate"), "Basic realm=\"site\"");
}

TEST(ExceptionHandlers, ACatchAllForStdExceptionLeavesHTTPExceptionsAlone) {
    App app;
    app.route("/http", []() -> Response { throw HTTPException(Status::forbidden, "no"); });
    app.route("/other", []() -> Response { throw std::runtime_error("other"); });
    app.exception_handler<std::exception>([](const std::exception& e) {
        return Response::text(std::string("caught ") + e.what(), Status::bad_gateway);
    });
    TestClient client(std::move(app), lenient());
    EXPECT_EQ(client.get("/http").status, 403);
    auto other = client.get("/other");
    EXPECT_EQ(other.status, 502);
    EXPECT_EQ(other.text(), "caught other");
}

TEST(ExceptionHandlers, AHandlerForHTTPExceptionTakesThemAll) {
    App app;
    app.route("/http", []() -> Response { throw HTTPException(Status::forbidden, "no"); });
    app.exception_handler<HTTPException>(
        [](const HTTPException& e) { return Response::text("http " + e.detail(), e.status()); });
    TestClient client(std::move(app), lenient());
    auto r = client.get("/http");
    EXPECT_EQ(r.status, 403);
    EXPECT_EQ(r.text(), "http no");
    EXPECT_EQ(client.get("/nowhere").status, 404);  // the router's own 404 stays plain
}

TEST(ExceptionHandlers, AHandlerThatThrowsIsADefault500) {
    App app;
    app.route("/teapot", []() -> Response { throw Teapot(); });
    app.exception_handler<Teapot>(
        [](const Teapot&) -> Response { throw std::runtime_error("the handler's own bug"); });
    TestClient client(std::move(app), lenient());
    auto r = client.get("/teapot");
    EXPECT_EQ(r.status, 500);
    EXPECT_EQ(r.text(), "Internal Server Error");
}

TEST(ExceptionHandlers, SeeWhatAMiddlewareThrows) {
    App app;
    app.middleware([](Next) -> Task<Response> { throw Teapot(); });
    app.route("/", [] { return "x"; });
    app.exception_handler<Teapot>([](const Teapot&) { return Response::text("tea", Status{418}); });
    TestClient client(std::move(app), lenient());
    auto r = client.get("/");
    EXPECT_EQ(r.status, 418);
    EXPECT_EQ(r.text(), "tea");
}

TEST(ExceptionHandlers, RegisteringTheSameTwiceIsAnError) {
    App app;
    app.exception_handler<Teapot>([](const Teapot&) { return "a"; });
    EXPECT_THROW(app.exception_handler<Teapot>([](const Teapot&) { return "b"; }),
                 std::invalid_argument);
    app.exception_handler(Status::not_found, [] { return "a"; });
    EXPECT_THROW(app.exception_handler(Status::not_found, [] { return "b"; }),
                 std::invalid_argument);
}

// --- WebSocket exception handlers: the close code --------------------------------------------

struct RateLimited : std::runtime_error {
    using std::runtime_error::runtime_error;
};
struct Banned : RateLimited {
    using RateLimited::RateLimited;
};

Task<void> throws_after_accept(WebSocket& ws) {
    co_await ws.accept();
    const std::string path(ws.request().raw_path());
    if (path == "/ws/limited")
        throw RateLimited("slow down");
    if (path == "/ws/banned")
        throw Banned("go away");
    if (path == "/ws/logic")
        throw std::logic_error("bug");
    if (path == "/ws/chooser-fails")
        throw std::out_of_range("x");
    throw std::runtime_error("nobody handles this");
}

App websocket_errors_app() {
    App app;
    app.websocket_exception_handler<RateLimited>([](const RateLimited& e) {
        return WebSocketClose{Code::try_again_later, e.what()};
    });
    // Registered after its base: still the one for Banned (the most derived wins).
    app.websocket_exception_handler<Banned>(
        [](const Banned&, WebSocket& ws) -> Task<WebSocketClose> {
            co_return WebSocketClose{Code{4003}, std::string(ws.request().raw_path())};
        });
    app.websocket_exception_handler<std::logic_error>([](const std::logic_error& e) {
        if (dynamic_cast<const std::out_of_range*>(&e) != nullptr) {
            throw std::runtime_error("the handler itself fails");
        }
        return WebSocketClose{Code::policy_violation, "logic"};
    });
    for (const char* path :
         {"/ws/limited", "/ws/banned", "/ws/logic", "/ws/chooser-fails", "/ws/other"}) {
        app.websocket_route(path, throws_after_accept);
    }
    return app;
}

int close_code_of(TestClient& client, std::string_view path, std::string* reason = nullptr) {
    auto ws = client.websocket_connect(path);
    try {
        ws.receive_text();
    } catch (const testing::WebSocketClosed& e) {
        if (reason != nullptr)
            *reason = e.reason();
        return e.code();
    }
    return 0;
}

TEST(WebSocketExceptionHandlers, ChooseTheCloseCodeByTheMostDerivedType) {
    TestClient client(websocket_errors_app(),
                      ClientOptions{.raise_server_exceptions = false, .log_level = LogLevel::off});
    std::string reason;
    EXPECT_EQ(close_code_of(client, "/ws/limited", &reason), 1013);
    EXPECT_EQ(reason, "slow down");
    EXPECT_EQ(close_code_of(client, "/ws/banned", &reason), 4003);
    EXPECT_EQ(reason, "/ws/banned");
    EXPECT_EQ(close_code_of(client, "/ws/logic", &reason), 1008);
    // No handler for the type, or a handler that throws: 1011, as without handlers.
    EXPECT_EQ(close_code_of(client, "/ws/other"), 1011);
    EXPECT_EQ(close_code_of(client, "/ws/chooser-fails"), 1011);
}

TEST(WebSocketExceptionHandlers, AHandledExceptionIsNotAServerError) {
    // raise_server_exceptions is on: an unhandled server error would be raised by close().
    TestClient client(websocket_errors_app(), ClientOptions{.log_level = LogLevel::off});
    EXPECT_EQ(close_code_of(client, "/ws/limited"), 1013);
    client.close();  // nothing to raise: the handler took it
}

}  // namespace
}  // namespace flamecpp
