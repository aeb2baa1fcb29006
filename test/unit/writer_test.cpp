#include "http/writer.hpp"

#include <regex>
#include <stdexcept>

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
    Response r = Response::text("teapot", Status{418});
    EXPECT_EQ(head(r).substr(0, 21), "HTTP/1.1 418 Unknown\r");
}

TEST(HttpDate, IsImfFixdate) {
    EXPECT_EQ(format_http_date(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");
    DateCache cache;
    std::regex imf(R"([A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT)");
    EXPECT_TRUE(std::regex_match(std::string(cache.now()), imf)) << cache.now();
}

}  // namespace
}  // namespace flamecpp::detail
