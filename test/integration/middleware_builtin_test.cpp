// CORS, GZip, HTTPSRedirect, ProxyHeaders and Sessions on a real server, through TestClient.
#include <cstdint>
#include <string>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <gtest/gtest.h>

#include <flamecpp/flamecpp.hpp>
#include <flamecpp/json.hpp>
#include <flamecpp/sessions.hpp>
#include <flamecpp/testing.hpp>

#include "gzip.hpp"

namespace flamecpp {
namespace {

using testing::ClientOptions;
using testing::Headers;
using testing::TestClient;

ClientOptions quiet() { return ClientOptions{.log_level = LogLevel::off}; }

// --- CORS ----------------------------------------------------------------------------------

App cors_app(CORSOptions options) {
    App app;
    app.middleware(CORS{std::move(options)});
    app.route("/items", [] { return "items"; }, {Method::get, Method::post});
    return app;
}

TEST(CORSMiddleware, PreflightFromAListedOriginForAnyPath) {
    TestClient client(cors_app({.allow_origins = {"https://app.example"},
                                .allow_methods = {"GET", "POST"},
                                .allow_headers = {"X-Token"}}),
                      quiet());
    for (const char* path : {"/items", "/nowhere"}) {
        auto r = client.options(
            path, {.headers = {{"Origin", "https://app.example"},
                               {"Access-Control-Request-Method", "POST"},
                               {"Access-Control-Request-Headers", "x-token, Content-Type"}}});
        EXPECT_EQ(r.status, 200) << path;
        EXPECT_EQ(r.text(), "");
        EXPECT_EQ(r.header("Content-Length"), "0");
        EXPECT_EQ(r.header("Access-Control-Allow-Origin"), "https://app.example");
        EXPECT_EQ(r.header("Access-Control-Allow-Methods"), "GET, POST");
        EXPECT_EQ(r.header("Access-Control-Allow-Headers"),
                  "accept, accept-language, content-language, content-type, x-token");
        EXPECT_EQ(r.header("Access-Control-Max-Age"), "600");
        EXPECT_EQ(r.header("Vary"), "Origin");
    }
}

TEST(CORSMiddleware, PreflightRefusalsSayWhatIsDisallowed) {
    TestClient client(cors_app({.allow_origins = {"https://app.example"}}), quiet());
    auto origin = client.options("/items", {.headers = {{"Origin", "https://evil.example"},
                                                        {"Access-Control-Request-Method", "GET"}}});
    EXPECT_EQ(origin.status, 400);
    EXPECT_EQ(origin.text(), "Disallowed CORS origin");
    EXPECT_FALSE(origin.header("Access-Control-Allow-Origin"));
    auto all = client.options("/items", {.headers = {{"Origin", "https://evil.example"},
                                                     {"Access-Control-Request-Method", "PUT"},
                                                     {"Access-Control-Request-Headers", "X-A"}}});
    EXPECT_EQ(all.text(), "Disallowed CORS origin, method, headers");
}

TEST(CORSMiddleware, SimpleRequestsGetTheOriginOnlyWhenItIsAllowed) {
    TestClient client(cors_app({.allow_origins = {"https://app.example"},
                                .allow_credentials = true,
                                .expose_headers = {"X-Total", "X-Page"}}),
                      quiet());
    auto allowed = client.get("/items", {.headers = {{"Origin", "https://app.example"}}});
    EXPECT_EQ(allowed.text(), "items");
    EXPECT_EQ(allowed.header("Access-Control-Allow-Origin"), "https://app.example");
    EXPECT_EQ(allowed.header("Access-Control-Allow-Credentials"), "true");
    EXPECT_EQ(allowed.header("Access-Control-Expose-Headers"), "X-Total, X-Page");
    EXPECT_EQ(allowed.header("Vary"), "Origin");

    auto other = client.get("/items", {.headers = {{"Origin", "https://evil.example"}}});
    EXPECT_EQ(other.text(), "items");
    for (const auto& [name, value] : other.headers) {
        EXPECT_FALSE(name.starts_with("Access-Control-")) << name;
    }
    // No Origin: not a CORS request, nothing added. The 404 and 405 answers get it too.
    EXPECT_FALSE(client.get("/items").header("Vary"));
    EXPECT_EQ(client.get("/nowhere", {.headers = {{"Origin", "https://app.example"}}})
                  .header("Access-Control-Allow-Origin"),
              "https://app.example");
    auto not_allowed = client.put("/items", {.headers = {{"Origin", "https://app.example"}}});
    EXPECT_EQ(not_allowed.status, 405);
    EXPECT_EQ(not_allowed.header("Access-Control-Allow-Origin"), "https://app.example");
}

TEST(CORSMiddleware, WildcardsAndTheRegex) {
    TestClient any(cors_app({.allow_origins = {"*"}, .allow_headers = {"*"}}), quiet());
    auto simple = any.get("/items", {.headers = {{"Origin", "https://x.example"}}});
    EXPECT_EQ(simple.header("Access-Control-Allow-Origin"), "*");
    EXPECT_FALSE(simple.header("Vary"));  // the answer is the same for every origin
    auto preflight =
        any.options("/items", {.headers = {{"Origin", "https://x.example"},
                                           {"Access-Control-Request-Method", "GET"},
                                           {"Access-Control-Request-Headers", "X-Anything"}}});
    EXPECT_EQ(preflight.status, 200);
    EXPECT_EQ(preflight.header("Access-Control-Allow-Headers"), "X-Anything");

    TestClient regex(cors_app({.allow_origin_regex = R"(https://[a-z]+\.example\.com)"}), quiet());
    EXPECT_EQ(regex.get("/items", {.headers = {{"Origin", "https://api.example.com"}}})
                  .header("Access-Control-Allow-Origin"),
              "https://api.example.com");
    EXPECT_FALSE(regex.get("/items", {.headers = {{"Origin", "https://api.example.com.evil"}}})
                     .header("Access-Control-Allow-Origin"));
    EXPECT_THROW(CORS({.allow_origin_regex = "(unclosed"}), std::invalid_argument);
}

// --- GZip ----------------------------------------------------------------------------------

Task<void> chunks(BodyWriter& out) {
    for (int i = 0; i < 50; ++i) {
        co_await out.write("line " + std::to_string(i) + " of a streamed text body\n");
    }
}

App gzip_app() {
    App app;
    app.middleware(GZip{});
    app.route("/big", [] { return Response::text(std::string(2000, 'a')); });
    app.route("/small", [] { return Response::text(std::string(499, 'a')); });
    app.route("/png", [] { return Response(Status::ok, std::string(2000, 'p'), "image/png"); });
    app.route("/json", [] {
        boost::json::array items;
        for (int i = 0; i < 100; ++i) items.emplace_back(boost::json::object{{"id", i}});
        return boost::json::value(std::move(items));
    });
    app.route("/tagged",
              [] { return Response::text(std::string(1000, 't')).with_header("ETag", "\"v1\""); });
    app.route("/partial",
              [] { return Response::text(std::string(1000, 'r'), Status::partial_content); });
    app.route("/stream", [] { return Response::stream(chunks, "text/plain"); });
    app.route("/encoded", [] {
        return Response::text(std::string(1000, 'e')).with_header("Content-Encoding", "br");
    });
    return app;
}

TEST(GZipMiddleware, CompressesLargeTextForClientsThatAcceptIt) {
    TestClient client(gzip_app(), quiet());
    auto r = client.get("/big", {.headers = {{"Accept-Encoding", "gzip, deflate"}}});
    EXPECT_EQ(r.header("Content-Encoding"), "gzip");
    EXPECT_EQ(r.header("Vary"), "Accept-Encoding");
    EXPECT_EQ(r.header("Content-Length"), std::to_string(r.body.size()));
    EXPECT_LT(r.body.size(), 100u);
    EXPECT_EQ(test::gunzip(r.body), std::string(2000, 'a'));

    auto json = client.get("/json", {.headers = {{"Accept-Encoding", "br;q=1.0, gzip;q=0.5"}}});
    EXPECT_EQ(json.header("Content-Encoding"), "gzip");
    EXPECT_EQ(boost::json::parse(test::gunzip(json.body)).as_array().size(), 100u);
}

TEST(GZipMiddleware, LeavesAloneWhatItShouldNotCompress) {
    TestClient client(gzip_app(), quiet());
    const Headers gzip = {{"Accept-Encoding", "gzip"}};
    auto small = client.get("/small", {.headers = gzip});
    EXPECT_FALSE(small.header("Content-Encoding"));
    EXPECT_FALSE(small.header("Vary"));
    EXPECT_EQ(small.body.size(), 499u);
    EXPECT_FALSE(client.get("/png", {.headers = gzip}).header("Content-Encoding"));
    EXPECT_FALSE(client.get("/partial", {.headers = gzip}).header("Content-Encoding"));
    EXPECT_EQ(client.get("/encoded", {.headers = gzip}).header("Content-Encoding"), "br");
    for (const char* refusal : {"identity", "gzip;q=0", "*;q=0", "br", "gzip;q=0, *"}) {
        auto r = client.get("/big", {.headers = {{"Accept-Encoding", refusal}}});
        EXPECT_FALSE(r.header("Content-Encoding")) << refusal;
        EXPECT_EQ(r.header("Vary"), "Accept-Encoding") << refusal;  // it could have been
        EXPECT_EQ(r.body, std::string(2000, 'a')) << refusal;
    }
    EXPECT_FALSE(client.get("/big").header("Content-Encoding"));  // no Accept-Encoding
    auto head = client.head("/big", {.headers = gzip});
    EXPECT_FALSE(head.header("Content-Encoding"));
    EXPECT_EQ(head.header("Content-Length"), "2000");
}

TEST(GZipMiddleware, WeakensTheETagAndCompressesStreamsChunkByChunk) {
    TestClient client(gzip_app(), quiet());
    const Headers gzip = {{"Accept-Encoding", "*"}};
    auto tagged = client.get("/tagged", {.headers = gzip});
    EXPECT_EQ(tagged.header("ETag"), "W/\"v1\"");
    EXPECT_EQ(test::gunzip(tagged.body), std::string(1000, 't'));

    auto stream = client.get("/stream", {.headers = gzip});
    EXPECT_EQ(stream.header("Content-Encoding"), "gzip");
    EXPECT_EQ(stream.header("Transfer-Encoding"), "chunked");
    std::string expected;
    for (int i = 0; i < 50; ++i) {
        expected += "line " + std::to_string(i) + " of a streamed text body\n";
    }
    EXPECT_EQ(test::gunzip(stream.body), expected);
}

// --- HTTPSRedirect and ProxyHeaders ----------------------------------------------------------

TEST(HTTPSRedirectMiddleware, SendsPlainHttpToHttps) {
    App app;
    app.middleware(HTTPSRedirect{});
    app.route("/a", [] { return "a"; });
    TestClient client(std::move(app), quiet());
    auto r = client.get("/a?x=1", {.headers = {{"Host", "example.com"}}});
    EXPECT_EQ(r.status, 307);
    EXPECT_EQ(r.header("Location"), "https://example.com/a?x=1");
    EXPECT_EQ(client.get("/b", {.headers = {{"Host", "example.com:80"}}}).header("Location"),
              "https://example.com/b");
    EXPECT_EQ(client.get("/b", {.headers = {{"Host", "example.com:8080"}}}).header("Location"),
              "https://example.com:8080/b");
    auto bad = client.get("/b", {.headers = {{"Host", "example.com:@evil.example"}}});
    EXPECT_EQ(bad.status, 400);
    EXPECT_FALSE(bad.header("Location"));
}

App proxy_app(std::vector<std::string> trusted) {
    App app;
    app.middleware(ProxyHeaders{std::move(trusted)});
    app.middleware(HTTPSRedirect{});
    app.route("/who", [](Request& request) {
        return boost::json::value{{"client", request.client()}, {"scheme", request.scheme()}};
    });
    return app;
}

TEST(ProxyHeadersMiddleware, BelievesTrustedProxiesOnly) {
    TestClient trusted(proxy_app({"127.0.0.1"}), quiet());
    auto r = trusted.get("/who", {.headers = {{"X-Forwarded-For", "203.0.113.7, 127.0.0.1"},
                                              {"X-Forwarded-Proto", "https"}}});
    ASSERT_EQ(r.status, 200);  // HTTPSRedirect sees https
    EXPECT_EQ(r.json().at("client"), "203.0.113.7:0");
    EXPECT_EQ(r.json().at("scheme"), "https");
    // The next request on the same connection starts from the connection's own values.
    EXPECT_EQ(trusted.get("/who").status, 307);

    // A proxy appends a line of its own: every line counts, and the nearest proxy's scheme.
    auto two_lines = trusted.get("/who", {.headers = {{"X-Forwarded-For", "1.2.3.4"},
                                                      {"X-Forwarded-Proto", "https"},
                                                      {"X-Forwarded-For", "198.51.100.9"},
                                                      {"X-Forwarded-Proto", "https"}}});
    EXPECT_EQ(two_lines.json().at("client"), "198.51.100.9:0");
    auto spoofed_proto = trusted.get("/who", {.headers = {{"X-Forwarded-Proto", "https, http"}}});
    EXPECT_EQ(spoofed_proto.status, 307);  // the nearest proxy said http
    auto garbage = trusted.get(
        "/who", {.headers = {{"X-Forwarded-For", "not-an-ip"}, {"X-Forwarded-Proto", "https"}}});
    EXPECT_TRUE(std::string(garbage.json().at("client").as_string()).starts_with("127.0.0.1:"));

    TestClient untrusted(proxy_app({"10.0.0.0/8"}), quiet());
    auto ignored = untrusted.get(
        "/who", {.headers = {{"X-Forwarded-For", "203.0.113.7"}, {"X-Forwarded-Proto", "https"}}});
    EXPECT_EQ(ignored.status, 307);
    EXPECT_THROW(ProxyHeaders({"not-an-address"}), std::invalid_argument);
}

// --- Sessions ------------------------------------------------------------------------------

App session_app(SessionOptions options) {
    App app;
    app.middleware(Sessions{std::move(options)});
    app.route("/visit", [](Session& session) {
        auto& data = session.data();
        const std::int64_t n =
            (data.contains("visits") ? data.at("visits").to_number<std::int64_t>() : 0) + 1;
        data["visits"] = n;
        return boost::json::value{{"visits", n}};
    });
    app.route("/logout", [](Session& session) {
        session.clear();
        return "bye";
    });
    app.websocket_route("/ws", [](WebSocket& ws, Session& session) -> Task<void> {
        co_await ws.accept();
        co_await ws.send_text(session.data().contains("visits") ? "known" : "stranger");
    });
    return app;
}

TEST(SessionsMiddleware, CountsVisitsInASignedCookie) {
    TestClient client(session_app({.secret_key = "k1"}), quiet());
    auto first = client.get("/visit");
    EXPECT_EQ(first.json().at("visits"), 1);
    const std::string set_cookie = first.header("Set-Cookie").value_or("");
    EXPECT_TRUE(set_cookie.starts_with("session=")) << set_cookie;
    EXPECT_NE(set_cookie.find("HttpOnly"), std::string::npos) << set_cookie;
    EXPECT_NE(set_cookie.find("SameSite=Lax"), std::string::npos) << set_cookie;
    EXPECT_NE(set_cookie.find("Path=/"), std::string::npos) << set_cookie;
    EXPECT_NE(set_cookie.find("Max-Age=1209600"), std::string::npos) << set_cookie;
    EXPECT_EQ(client.get("/visit").json().at("visits"), 2);
    EXPECT_EQ(client.websocket_connect("/ws").receive_text(), "known");
    EXPECT_EQ(client.get("/visit").json().at("visits"), 3);

    auto out = client.get("/logout");
    EXPECT_NE(out.header("Set-Cookie").value_or("").find("Max-Age=0"), std::string::npos);
    EXPECT_FALSE(client.cookies().get("session"));
    EXPECT_EQ(client.get("/visit").json().at("visits"), 1);
}

TEST(SessionsMiddleware, ACookieThatDoesNotVerifyIsANewSession) {
    TestClient client(session_app({.secret_key = "k1"}), quiet());
    client.get("/visit");
    client.get("/visit");
    const std::string good = client.cookies().get("session").value_or("");
    ASSERT_FALSE(good.empty());
    std::string tampered = good;
    tampered[2] = tampered[2] == 'A' ? 'B' : 'A';
    for (const std::string& bad :
         {tampered, std::string("garbage"), std::string("a.b.c"), std::string("...."),
          good.substr(0, good.size() - 4), std::string(3000, '=')}) {
        client.cookies().set("session", bad);
        auto r = client.get("/visit");
        EXPECT_EQ(r.status, 200) << bad;
        EXPECT_EQ(r.json().at("visits"), 1) << bad;
    }
    EXPECT_EQ(client.websocket_connect("/ws").receive_text(), "known");  // the last answer's
}

TEST(SessionsMiddleware, OldKeysStillVerifyAndSigningTimeIsChecked) {
    Sessions old({.secret_key = "old"});
    Sessions rotated({.secret_key = "new", .old_keys = {"old"}});
    Sessions other({.secret_key = "other"});
    Session session;
    session.data()["user"] = "ana";
    const std::int64_t now = 1'800'000'000;
    const std::string cookie = old.sign(session, now);
    Session loaded;
    EXPECT_TRUE(rotated.load(cookie, now, loaded));
    EXPECT_EQ(loaded.data().at("user"), "ana");
    EXPECT_FALSE(other.load(cookie, now, loaded));
    EXPECT_TRUE(loaded.empty());
    EXPECT_TRUE(old.load(cookie, now + 1'209'600, loaded));  // 14 days, the default max age
    EXPECT_FALSE(old.load(cookie, now + 1'209'601, loaded));
    EXPECT_THROW(Sessions({}), std::invalid_argument);
}

TEST(SessionsMiddleware, AHandlerTakingASessionWithoutTheMiddlewareIsA500) {
    App app;
    app.route("/s", [](Session& s) { return s.empty() ? "empty" : "full"; });
    TestClient client(std::move(app),
                      ClientOptions{.raise_server_exceptions = false, .log_level = LogLevel::off});
    EXPECT_EQ(client.get("/s").status, 500);
}

}  // namespace
}  // namespace flamecpp
