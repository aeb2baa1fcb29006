// Cookies: Request::cookie, Response::set_cookie / delete_cookie and the TestClient's jar.
#include <chrono>
#include <stdexcept>

#include <gtest/gtest.h>

#include <flamecpp/request.hpp>
#include <flamecpp/response.hpp>
#include <flamecpp/testing.hpp>

#include "http/request_builder.hpp"

namespace flamecpp {
namespace {

Request with_cookie_headers(std::initializer_list<std::string_view> values) {
    Request r;
    detail::RequestBuilder b(r);
    b.set_start(Method::get, "GET", "/", 11);
    for (auto v : values) {
        b.add_header("Cookie", v);
    }
    return r;
}

TEST(RequestCookie, FindsPairsInEveryCookieHeader) {
    auto r = with_cookie_headers({"a=1; session=abc;theme = dark", "late=\"quoted\"; a=2"});
    EXPECT_EQ(r.cookie("a"), "1");  // the first wins
    EXPECT_EQ(r.cookie("session"), "abc");
    EXPECT_EQ(r.cookie("theme"), "dark");
    EXPECT_EQ(r.cookie("late"), "quoted");
    EXPECT_EQ(r.cookie("missing"), std::nullopt);
    EXPECT_EQ(r.cookie("sess"), std::nullopt);
}

TEST(RequestCookie, MalformedPairsAreSkipped) {
    auto r = with_cookie_headers({"novalue; =x; ; ok=yes; empty="});
    EXPECT_EQ(r.cookie("ok"), "yes");
    EXPECT_EQ(r.cookie("empty"), "");
    EXPECT_EQ(r.cookie("novalue"), std::nullopt);
}

TEST(ResponseCookie, SetCookieCarriesTheAttributes) {
    auto r = Response::text("x").set_cookie("session", "abc", {.max_age = 3600, .http_only = true});
    EXPECT_EQ(r.header("Set-Cookie"), "session=abc; Path=/; Max-Age=3600; HttpOnly; SameSite=Lax");
    Response strict;
    strict.set_cookie("t", "1",
                      {.path = "/app", .domain = "example.com", .same_site = SameSite::strict});
    EXPECT_EQ(strict.header("Set-Cookie"), "t=1; Path=/app; Domain=example.com; SameSite=Strict");
    Response none;
    none.set_cookie("t", "1", {.same_site = SameSite::none});
    EXPECT_EQ(none.header("Set-Cookie"), "t=1; Path=/; Secure; SameSite=None");
}

TEST(ResponseCookie, DeleteCookieExpiresIt) {
    auto r = Response::empty().delete_cookie("session");
    EXPECT_EQ(r.header("Set-Cookie"), "session=; Path=/; Max-Age=0; SameSite=Lax");
}

TEST(ResponseCookie, InvalidNamesAndValuesAreRefused) {
    Response r;
    EXPECT_THROW(r.set_cookie("", "v"), std::invalid_argument);
    EXPECT_THROW(r.set_cookie("a b", "v"), std::invalid_argument);
    EXPECT_THROW(r.set_cookie("a", "x;y"), std::invalid_argument);
    EXPECT_THROW(r.set_cookie("a", "line\r\nInjected: 1"), std::invalid_argument);
    EXPECT_THROW(r.set_cookie("a", "v", {.path = "/;Domain=evil"}), std::invalid_argument);
    EXPECT_TRUE(r.headers().empty());
}

using testing::CookieJar;

TEST(CookieJar, StoresReplacesAndDeletes) {
    CookieJar jar;
    jar.store("a=1; Path=/", "/x", "testserver");
    jar.store("b=2", "/x", "testserver");
    EXPECT_EQ(jar.header_for("/"), "a=1; b=2");
    jar.store("a=3; Path=/", "/", "testserver");
    EXPECT_EQ(jar.get("a"), "3");
    jar.store("a=; Max-Age=0", "/", "testserver");
    EXPECT_EQ(jar.get("a"), std::nullopt);
    EXPECT_EQ(jar.entries().size(), 1u);
}

TEST(CookieJar, PathsScopeCookies) {
    CookieJar jar;
    jar.store("top=1; Path=/", "/", "testserver");
    jar.store("docs=1; Path=/docs", "/", "testserver");
    jar.store("dir=1", "/api/v1/users", "testserver");  // default path: /api/v1
    EXPECT_EQ(jar.header_for("/"), "top=1");
    EXPECT_EQ(jar.header_for("/docs"), "docs=1; top=1");
    EXPECT_EQ(jar.header_for("/docs/page"), "docs=1; top=1");
    EXPECT_EQ(jar.header_for("/docsearch"), "top=1");
    EXPECT_EQ(jar.header_for("/api/v1/items"), "dir=1; top=1");
}

TEST(CookieJar, ExpiryFollowsMaxAgeThenExpires) {
    CookieJar jar;
    jar.store("old=1; Expires=Thu, 01 Jan 1970 00:00:01 GMT", "/", "testserver");
    EXPECT_EQ(jar.get("old"), std::nullopt);
    jar.store("future=1; Expires=Fri, 01 Jan 2100 00:00:00 GMT", "/", "testserver");
    EXPECT_EQ(jar.get("future"), "1");
    ASSERT_TRUE(jar.entries().front().expires.has_value());
    // Max-Age wins over Expires.
    jar.store("both=1; Max-Age=0; Expires=Fri, 01 Jan 2100 00:00:00 GMT", "/", "testserver");
    EXPECT_EQ(jar.get("both"), std::nullopt);
    // An Expires nobody can read is ignored: a session cookie.
    jar.store("odd=1; Expires=tomorrow", "/", "testserver");
    EXPECT_EQ(jar.get("odd"), "1");
}

TEST(CookieJar, OtherDomainsAndMalformedCookiesAreIgnored) {
    CookieJar jar;
    jar.store("a=1; Domain=example.com", "/", "testserver");
    jar.store("b=1; Domain=.TestServer", "/", "testserver");
    jar.store("novalue", "/", "testserver");
    jar.store("=x", "/", "testserver");
    EXPECT_EQ(jar.header_for("/"), "b=1");
}

TEST(CookieJar, FlagsAreKept) {
    CookieJar jar;
    jar.store("s=1; Secure; HttpOnly; SameSite=Strict", "/", "testserver");
    ASSERT_EQ(jar.entries().size(), 1u);
    EXPECT_TRUE(jar.entries().front().secure);
    EXPECT_TRUE(jar.entries().front().http_only);
    EXPECT_EQ(jar.header_for("/"), "s=1");
}

}  // namespace
}  // namespace flamecpp
