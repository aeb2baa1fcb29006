// Routers mounted at a prefix, their middleware, and reverse routing by name.
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/json/value.hpp>
#include <gtest/gtest.h>

#include <flamecpp/flamecpp.hpp>
#include <flamecpp/json.hpp>
#include <flamecpp/testing.hpp>

#include "http_client.hpp"

namespace flamecpp {
namespace {

using testing::ClientOptions;
using testing::TestClient;

ClientOptions quiet() { return ClientOptions{.log_level = LogLevel::off}; }

/// GET /\evil.example/ with a raw backslash (TestClient would encode it).
void test_raw_backslash(std::uint16_t port) {
    test::RawConnection c(port);
    c.send("GET /\\evil.example/ HTTP/1.1\r\nHost: testserver\r\n\r\n");
    const auto r = c.read_response();
    EXPECT_NE(r.status, 307) << r.header("Location").value_or("");
}

/// A middleware that adds `name: value` to every answer it sees.
struct Stamp {
    std::string name;
    std::string value;
    Task<Response> operator()(Next next) const {
        Response response = co_await next();
        response.with_header(name, value);
        co_return response;
    }
};

App api_app() {
    Router api;
    api.middleware(Stamp{"X-API-Version", "1"});
    api.route(
        "/items", [] { return "items"; }, {Method::get}, "items");
    api.route(
        "/items/{id:int}", [](Path<"id", int> id) { return std::to_string(*id); }, {Method::get},
        "item");
    api.websocket_route("/ws", [](WebSocket& ws) -> Task<void> { co_await ws.accept(); });
    App app;
    app.route(
        "/", [] { return "home"; }, {Method::get}, "home");
    app.route("/api/v10", [] { return "not under the mount"; });
    app.mount("/api/v1", std::move(api), "api");
    return app;
}

TEST(Mount, ServesTheRoutersRoutesUnderThePrefix) {
    TestClient client(api_app(), quiet());
    EXPECT_EQ(client.get("/api/v1/items").text(), "items");
    EXPECT_EQ(client.get("/api/v1/items/7").text(), "7");
    EXPECT_EQ(client.get("/items").status, 404);
    EXPECT_EQ(client.get("/").text(), "home");
}

TEST(Mount, ItsMiddlewareWrapsEveryAnswerUnderThePrefixOnly) {
    TestClient client(api_app(), quiet());
    EXPECT_EQ(client.get("/api/v1/items").header("X-API-Version"), "1");
    auto missing = client.get("/api/v1/nowhere");  // no route: the mount's 404
    EXPECT_EQ(missing.status, 404);
    EXPECT_EQ(missing.header("X-API-Version"), "1");
    auto not_allowed = client.post("/api/v1/items");
    EXPECT_EQ(not_allowed.status, 405);
    EXPECT_EQ(not_allowed.header("X-API-Version"), "1");
    EXPECT_EQ(client.get("/api/v1").header("X-API-Version"), "1");  // the prefix itself
    EXPECT_EQ(client.websocket_connect("/api/v1/ws").header("X-API-Version"), "1");

    EXPECT_FALSE(client.get("/").header("X-API-Version"));
    EXPECT_FALSE(client.get("/nowhere").header("X-API-Version"));
    auto sibling = client.get("/api/v10");  // a prefix of the path, not a parent of it
    EXPECT_EQ(sibling.text(), "not under the mount");
    EXPECT_FALSE(sibling.header("X-API-Version"));
}

struct Journal {
    std::shared_ptr<std::mutex> mutex = std::make_shared<std::mutex>();
    std::shared_ptr<std::vector<std::string>> lines = std::make_shared<std::vector<std::string>>();
    void add(std::string line) const {
        std::lock_guard lock(*mutex);
        lines->push_back(std::move(line));
    }
};

/// Notes its name on the way in and on the way out.
struct Layer {
    Journal journal;
    std::string name;
    Task<Response> operator()(Next next) const {
        journal.add(name + " in");
        Response response = co_await next();
        journal.add(name + " out");
        co_return response;
    }
};

TEST(Mount, NestedMountsLayerTheirMiddlewareInsideTheApps) {
    Journal journal;
    Router admin;
    admin.middleware(Layer{journal, "admin"});
    admin.route(
        "/users",
        [journal] {
            journal.add("handler");
            return "users";
        },
        {Method::get}, "users");
    Router api;
    api.middleware(Layer{journal, "api"});
    api.mount("/admin", std::move(admin), "admin");
    App app;
    app.middleware(Layer{journal, "app"});
    app.mount("/api", std::move(api), "api");

    EXPECT_EQ(app.url_path_for("api:admin:users"), "/api/admin/users");
    TestClient client(app, quiet());
    EXPECT_EQ(client.get("/api/admin/users").text(), "users");
    EXPECT_EQ(*journal.lines, (std::vector<std::string>{"app in", "api in", "admin in", "handler",
                                                        "admin out", "api out", "app out"}));
    journal.lines->clear();
    EXPECT_EQ(client.get("/api/other").status, 404);
    EXPECT_EQ(*journal.lines, (std::vector<std::string>{"app in", "api in", "api out", "app out"}));
}

TEST(ReverseRouting, BuildsPathsByNameAndChecksTheArguments) {
    App app = api_app();
    EXPECT_EQ(app.url_path_for("home"), "/");
    EXPECT_EQ(app.url_path_for("api:items"), "/api/v1/items");
    EXPECT_EQ(app.url_path_for("api:item", {{"id", 7}}), "/api/v1/items/7");
    EXPECT_EQ(app.url_path_for("api:item", {{"id", "12"}}), "/api/v1/items/12");
    // {id:int} matches digits only, so a path with -3 would never reach the route.
    EXPECT_THROW(app.url_path_for("api:item", {{"id", -3}}), std::invalid_argument);
    EXPECT_THROW(app.url_path_for("items"), std::invalid_argument);  // qualified by the mount
    EXPECT_THROW(app.url_path_for("api:nope"), std::invalid_argument);
    EXPECT_THROW(app.url_path_for("api:item"), std::invalid_argument);  // missing id
    EXPECT_THROW(app.url_path_for("api:item", {{"id", "x"}}), std::invalid_argument);
    EXPECT_THROW(app.url_path_for("api:item", {{"id", 7}, {"extra", 1}}), std::invalid_argument);
    try {
        app.url_path_for("api:item", {{"id", "seven"}});
    } catch (const std::invalid_argument& e) {
        EXPECT_STREQ(e.what(),
                     "flamecpp: url_path_for('api:item'): 'seven' does not fit {id:int} of "
                     "/api/v1/items/{id:int}");
    }
}

TEST(ReverseRouting, EncodesValuesAndKeepsSlashesOnlyForPathParameters) {
    App app;
    app.route(
        "/files/{rest:path}", [] { return ""; }, {Method::get}, "file");
    app.route(
        "/tags/{tag}", [] { return ""; }, {Method::get}, "tag");
    app.route(
        "/f/{x:float}", [] { return ""; }, {Method::get}, "float");
    EXPECT_EQ(app.url_path_for("file", {{"rest", "a b/c?d.txt"}}), "/files/a%20b/c%3Fd.txt");
    EXPECT_EQ(app.url_path_for("tag", {{"tag", "c++ & more"}}), "/tags/c++%20&%20more");
    EXPECT_THROW(app.url_path_for("tag", {{"tag", "a/b"}}), std::invalid_argument);
    EXPECT_THROW(app.url_path_for("tag", {{"tag", ".."}}), std::invalid_argument);
    EXPECT_THROW(app.url_path_for("tag", {{"tag", "."}}), std::invalid_argument);
    EXPECT_THROW(app.url_path_for("file", {{"rest", "a/../b"}}), std::invalid_argument);
    EXPECT_EQ(app.url_path_for("file", {{"rest", "a/..b/.c"}}), "/files/a/..b/.c");
    EXPECT_EQ(app.url_path_for("float", {{"x", 2.5}}), "/f/2.5");
}

TEST(ReverseRouting, UnnamedMountsPassNamesThroughAndDuplicatesAreRefused) {
    Router plain;
    plain.route(
        "/about", [] { return ""; }, {Method::get}, "about");
    App app;
    app.mount("/pages", std::move(plain));
    EXPECT_EQ(app.url_path_for("about"), "/pages/about");
    EXPECT_THROW(app.route(
                     "/other", [] { return ""; }, {Method::get}, "about"),
                 std::invalid_argument);
}

TEST(ReverseRouting, RequestUrlForIsAbsoluteForTheRequestsSchemeAndHost) {
    App app = api_app();
    app.middleware(ProxyHeaders{{"127.0.0.1"}});
    app.route("/links", [](Request& request) {
        return boost::json::value{{"item", request.url_for("api:item", {{"id", 7}})},
                                  {"home", request.url_for("home")}};
    });
    TestClient client(std::move(app), quiet());
    auto plain = client.get("/links", {.headers = {{"Host", "example.com:8080"}}});
    EXPECT_EQ(plain.json().at("item"), "http://example.com:8080/api/v1/items/7");
    EXPECT_EQ(plain.json().at("home"), "http://example.com:8080/");
    auto proxied = client.get(
        "/links", {.headers = {{"Host", "example.com"}, {"X-Forwarded-Proto", "https"}}});
    EXPECT_EQ(proxied.json().at("item"), "https://example.com/api/v1/items/7");
    // A Host that is no host: no URL is built from it.
    EXPECT_EQ(client.get("/links", {.headers = {{"Host", "example.com:@evil.example"}}}).status,
              400);
}

TEST(Mount, TheTableChecksSeeThroughMounts) {
    App app;
    app.route("/api/{rest:path}", [] { return ""; });
    Router api;
    api.route("/items", [] { return ""; });
    EXPECT_THROW(app.mount("/api", std::move(api)), std::invalid_argument);

    for (const char* bad : {"", "/", "api", "/api/", "/a/{x}", "/a//b"}) {
        EXPECT_THROW(App().mount(bad, Router()), std::invalid_argument) << bad;
        EXPECT_THROW(Router().mount(bad, Router()), std::invalid_argument) << bad;
    }
}

struct ItemMissing : std::runtime_error {
    using std::runtime_error::runtime_error;
};
struct Teapot : std::runtime_error {
    Teapot() : std::runtime_error("teapot") {}
};

TEST(Mount, ARoutersExceptionHandlersAnswerUnderItsPrefixFirst) {
    Router admin;
    admin.exception_handler(Status::not_found, [] { return "admin's 404"; });
    admin.route("/x", []() -> Response { throw ItemMissing("x"); });
    Router api;
    api.exception_handler(Status::not_found, [](const HTTPException& e) {
        return Response::json(boost::json::value{{"detail", e.detail()}}, Status::not_found);
    });
    api.exception_handler<ItemMissing>([](const ItemMissing& e) {
        return Response::json(boost::json::value{{"missing", e.what()}}, Status::not_found);
    });
    api.route("/items/{id:int}", [](Path<"id", int> id) -> Response {
        throw ItemMissing("item " + std::to_string(*id));
    });
    api.route("/tea", []() -> Response { throw Teapot(); });
    api.route("/gone", []() -> Response { throw HTTPException(Status::not_found, "gone"); });
    api.mount("/admin", std::move(admin));
    App app;
    app.exception_handler(Status::not_found,
                          [] { return Response::html("<h1>404</h1>", Status::not_found); });
    app.exception_handler<Teapot>(
        [] { return Response::text("the app's teapot", Status::im_a_teapot); });
    app.mount("/api", std::move(api));
    TestClient client(app, quiet());

    EXPECT_EQ(client.get("/nowhere").text(), "<h1>404</h1>");
    EXPECT_EQ(client.get("/api/nowhere").json().at("detail"), "Not Found");
    EXPECT_EQ(client.get("/api/gone").json().at("detail"), "gone");
    EXPECT_EQ(client.get("/api/items/3").json().at("missing"), "item 3");
    // Not the router's type: the app's handler.
    auto tea = client.get("/api/tea");
    EXPECT_EQ(tea.status, 418);
    EXPECT_EQ(tea.text(), "the app's teapot");
    // The innermost router first, then the ones around it.
    EXPECT_EQ(client.get("/api/admin/nowhere").text(), "admin's 404");
    EXPECT_EQ(client.get("/api/admin/x").json().at("missing"), "x");
}

TEST(Mount, AnHttpExceptionSkipsARoutersCatchAllForTheAppsOwnHandler) {
    Router api;
    api.exception_handler<std::exception>(
        [] { return Response::text("router catch-all", Status::internal_server_error); });
    api.route("/gone", []() -> Response { throw HTTPException(Status::gone, "gone"); });
    api.route("/bug", []() -> Response { throw std::runtime_error("bug"); });
    App app;
    app.exception_handler<HTTPException>(
        [](const HTTPException& e) { return Response::text("app: " + e.detail(), e.status()); });
    app.mount("/api", std::move(api));
    TestClient client(app,
                      ClientOptions{.raise_server_exceptions = false, .log_level = LogLevel::off});
    EXPECT_EQ(client.get("/api/gone").text(), "app: gone");
    EXPECT_EQ(client.get("/api/bug").text(), "router catch-all");
}

TEST(RedirectSlashes, SendsGetAndHeadToTheTwinThatHasARoute) {
    App app;
    app.route("/tasks", [] { return "tasks"; }, {Method::get, Method::post});
    app.route("/dir/", [] { return "dir"; });
    app.route("/{a}/{b}", [] { return "two"; });
    TestClient client(app, quiet());
    auto r = client.get("/tasks/?page=2");
    EXPECT_EQ(r.status, 307);
    EXPECT_EQ(r.header("Location"), "/tasks?page=2");
    EXPECT_EQ(client.get("/dir").header("Location"), "/dir/");
    EXPECT_EQ(client.head("/dir").status, 307);
    EXPECT_EQ(client.post("/tasks/").status, 404);  // GET and HEAD only
    EXPECT_EQ(client.get("/nothing/").status, 404);
    EXPECT_EQ(client.get("/tasks/", {.follow_redirects = true}).text(), "tasks");
    // Never towards another site: "//evil.example/" would become "//evil.example".
    EXPECT_EQ(client.get("//evil.example/").status, 404);
}

TEST(RedirectSlashes, NeverToAnotherSite) {
    App app;
    app.route("/{user}", [] { return "user"; });
    TestClient client(app, quiet());
    EXPECT_EQ(client.get("/ana/").header("Location"), "/ana");
    // Browsers read "/\\" as "//": "/\\evil.example" would leave the site.
    EXPECT_EQ(client.get("/%5Cevil.example/").status, 307);  // encoded: stays a path
    test_raw_backslash(client.port());
}

TEST(RedirectSlashes, CanBeTurnedOff) {
    App app;
    app.route("/tasks", [] { return "tasks"; });
    app.redirect_slashes(false);
    TestClient client(app, quiet());
    EXPECT_EQ(client.get("/tasks/").status, 404);
}

}  // namespace
}  // namespace flamecpp
