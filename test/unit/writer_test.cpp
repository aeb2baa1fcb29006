#include "http/writer.hpp"

#include <regex>
#include <stdexcept>
#include <vector>

#include <gtest/gtest.h>

namespace flamecpp::detail {
namespace {

std::string head(const Response& r, HeadOptions o = {"flamecpp", "DATE"}) {
    std::string out;
    write_head(out, r, o);
    return out;
}

TEST(Writer, TextResponseHasServerDateTypeAndLength) {
    EXPECT_EQ(head(Response::text("Hello")),
              "HTTP/1.1 200 OK\r\nServer: flamecpp\r\nDate: DATE\r\n"
              "Content-Type: text/plain; charset=utf-8\r\nContent-Length: 5\r\n\r\n");
}

TEST(Writer, NoContentHasNoLength) {
    EXPECT_EQ(head(Response::empty()),
              "HTTP/1.1 204 No Content\r\nServer: flamecpp\r\nDate: DATE\r\n\r\n");
}

TEST(Writer, CloseAndKeepAliveHeaders) {
    HeadOptions o{"s", "d"};
    o.close = true;
    EXPECT_NE(head(Response::text(""), o).find("Connection: close\r\n"), std::string::npos);
    o.close = false;
    o.keep_alive_10 = true;
    EXPECT_NE(head(Response::text(""), o).find("Connection: keep-alive\r\n"), std::string::npos);
}

TEST(Writer, StreamIsChunked) {
    HeadOptions o{"s", "d"};
    o.chunked = true;
    auto h = head(Response::text("x"), o);
    EXPECT_NE(h.find("Transfer-Encoding: chunked\r\n"), std::string::npos);
    EXPECT_EQ(h.find("Content-Length"), std::string::npos);
}

TEST(Writer, CustomHeadersAndStatus) {
    auto r = Response::redirect("/there");
    EXPECT_EQ(head(r),
              "HTTP/1.1 307 Temporary Redirect\r\nServer: flamecpp\r\nDate: DATE\r\n"
              "Content-Length: 0\r\nLocation: /there\r\n\r\n");
}

TEST(Writer, RejectsHeaderInjection) {
    auto r = Response::text("x").with_header("X-A", "1\r\nSet-Cookie: evil=1");
    EXPECT_THROW(head(r), std::invalid_argument);
    auto bad_name = Response::text("x").with_header("Bad Name", "1");
    EXPECT_THROW(head(bad_name), std::invalid_argument);
}

TEST(Writer, UnknownStatusStillFormats) {
    Response r = Response::text("client closed", Status{499});
    EXPECT_EQ(head(r).substr(0, 21), "HTTP/1.1 499 Unknown\r");
    EXPECT_EQ(head(Response::text("tea", Status::im_a_teapot)).substr(0, 26),
              "HTTP/1.1 418 I'm a teapot\r");
}

// The cache must give the same bytes as formatting, whichever of status, Server, Date,
// Content-Type and Content-Length changes between responses.
TEST(HeadCache, GivesTheBytesOfAFreshHeadAsItsKeyChanges) {
    HeadCache cache;
    struct Step {
        Response response;
        HeadOptions options;
    };
    const std::vector<Step> steps = {
        {Response::text("Hello"), {"flamecpp", "DATE-1"}},
        {Response::text("Hello, World!"), {"flamecpp", "DATE-1"}},  // a hit: only the length
        {Response::text("gone", Status::not_found), {"flamecpp", "DATE-1"}},  // only the status
        {Response::text("Hello"), {"flamecpp", "DATE-2"}},                    // the next second
        {Response::html("<p>"), {"flamecpp", "DATE-2"}},  // another content type
        {Response::text("gone", Status::not_found), {"flamecpp", "DATE-2"}},
        {Response::text("gone", Status::not_found), {"other", "DATE-2"}},
        {Response::empty(), {"other", "DATE-2"}},  // no content type
        {Response::text("x").with_header("X-A", "1"), {"other", "DATE-2"}},
        {Response::text("x"), {"other", "DATE-2", /*close=*/true}},
        // Content-Length ends the cached block: none when chunked, then the same length again.
        {Response::text("x"), {"other", "DATE-2", false, false, /*chunked=*/true}},
        {Response::text("x"), {"other", "DATE-2"}},
        {Response::text("y", Status::no_content), {"other", "DATE-2"}},  // no length line
        {Response::text("y"), {"other", "DATE-2"}},
        {Response::text("hello"), {"other", "DATE-2"}},
    };
    for (std::size_t i = 0; i < steps.size(); ++i) {
        HeadOptions cached = steps[i].options;
        cached.cache = &cache;
        EXPECT_EQ(head(steps[i].response, cached), head(steps[i].response, steps[i].options))
            << "step " << i;
    }
}

TEST(HeadCache, ABadContentTypeThrowsEveryTimeAndLeavesTheCacheUsable) {
    HeadCache cache;
    HeadOptions o{"flamecpp", "DATE"};
    o.cache = &cache;
    auto good = Response::text("x");
    Response bad(Status::ok, "x", "text/plain\r\nSet-Cookie: a=1");
    EXPECT_THROW(head(bad, o), std::invalid_argument);
    EXPECT_THROW(head(bad, o), std::invalid_argument);
    EXPECT_EQ(head(good, o), head(good, {"flamecpp", "DATE"}));
    EXPECT_THROW(head(bad, o), std::invalid_argument);
    EXPECT_EQ(head(good, o), head(good, {"flamecpp", "DATE"}));
}

TEST(HttpDate, IsImfFixdate) {
    EXPECT_EQ(format_http_date(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");
    DateCache cache;
    std::regex imf(R"([A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT)");
    EXPECT_TRUE(std::regex_match(std::string(cache.now()), imf)) << cache.now();
}

}  // namespace
}  // namespace flamecpp::detail
