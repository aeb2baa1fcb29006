#include "http/request_parser.hpp"

#include <string>
#include <string_view>

#include <gtest/gtest.h>

namespace flamecpp::detail {
namespace {

namespace http = boost::beast::http;

// One request fed to a parser, in pieces of `piece` bytes (0: all at once), as a connection
// would receive it.
struct Parsed {
    bool done = false;
    Status status = Status::ok;  // the refusal's status when !done
    Refusal refusal = Refusal::none;
    std::size_t used = 0;  // bytes of the input that belonged to the request
    bool expects_continue = false;
};

class RequestParserTest : public ::testing::Test {
protected:
    Parsed Parse(std::string_view input, std::size_t piece = 0) {
        RequestParser parser(request, storage, limits);
        Parsed out;
        std::size_t offered = piece == 0 ? input.size() : std::min(piece, input.size());
        for (;;) {
            boost::system::error_code ec;
            const std::size_t used = parser.feed(input.substr(out.used, offered - out.used), ec);
            out.used += used;
            out.expects_continue = parser.expects_continue();
            const bool starved = !ec && !parser.is_done() && (used == 0 || out.used == offered);
            if (ec == http::error::need_more || starved) {
                if (offered == input.size()) {
                    return out;  // the input ends inside the request
                }
                offered = std::min(input.size(), offered + (piece == 0 ? input.size() : piece));
                continue;
            }
            if (ec) {
                out.status = parser.status(ec);
                out.refusal = parser.refusal();
                return out;
            }
            if (parser.is_done()) {
                out.done = true;
                return out;
            }
        }
    }

    Limits limits;
    RequestStorage storage;
    Request request;
};

TEST_F(RequestParserTest, ParsesARequestWithItsHeadersAndBody) {
    const Parsed p =
        Parse("POST /items/?x=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nX-Y: z\r\n\r\nhello");
    ASSERT_TRUE(p.done);
    EXPECT_EQ(request.method(), Method::post);
    EXPECT_EQ(request.raw_path(), "/items/");
    EXPECT_EQ(request.header("x-y").value_or(""), "z");
    EXPECT_EQ(request.body(), "hello");
}

TEST_F(RequestParserTest, AHeaderArrivingByteByByteParsesTheSame) {
    const Parsed p = Parse("GET /a?b=c HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n\r\n", 1);
    ASSERT_TRUE(p.done);
    EXPECT_EQ(request.raw_path(), "/a");
    EXPECT_EQ(request.header("Accept").value_or(""), "*/*");
}

TEST_F(RequestParserTest, UsesOnlyTheFirstOfTwoPipelinedRequests) {
    const std::string first = "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n";
    const Parsed p = Parse(first + "GET /2 HTTP/1.1\r\nHost: a\r\n\r\n");
    ASSERT_TRUE(p.done);
    EXPECT_EQ(p.used, first.size());
    EXPECT_EQ(request.raw_path(), "/1");
}

// RFC 9112 6.1 and 6.3: framing that a proxy in front could read differently.
TEST_F(RequestParserTest, ContentLengthWithTransferEncodingIs400) {
    const Parsed p = Parse(
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n");
    EXPECT_EQ(p.status, Status::bad_request);  // Beast refuses this one itself
}

TEST_F(RequestParserTest, TransferEncodingInHttp10Is400) {
    const Parsed p = Parse("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
    EXPECT_EQ(p.status, Status::bad_request);
    EXPECT_EQ(p.refusal, Refusal::conflicting_framing);
}

TEST_F(RequestParserTest, CodingsOtherThanChunkedAloneAre501) {
    for (const char* te : {"gzip", "gzip, chunked"}) {
        const Parsed p = Parse(std::string("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ") +
                               te + "\r\n\r\n");
        EXPECT_EQ(p.status, Status::not_implemented) << te;
    }
}

// RFC 9112 6.1: chunked applied twice is not a framing at all.
TEST_F(RequestParserTest, ChunkedTwiceIs400) {
    EXPECT_EQ(Parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
                    "Transfer-Encoding: chunked\r\n\r\n")
                  .status,
              Status::bad_request);
}

TEST_F(RequestParserTest, ChunkedBodyIsJoinedAndItsTrailersDiscarded) {
    const Parsed p = Parse(
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
        "3\r\nabc\r\n2\r\nde\r\n0\r\nX-Trailer: t\r\n\r\n");
    ASSERT_TRUE(p.done);
    EXPECT_EQ(request.body(), "abcde");
    EXPECT_FALSE(request.header("X-Trailer").has_value());
}

// RFC 9112 5.2 and 2.2, in one read and split at the fold.
TEST_F(RequestParserTest, ObsFoldIs400WhereverTheReadEnds) {
    const std::string folded = "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n";
    for (std::size_t piece : {std::size_t{0}, std::size_t{1}, std::size_t{7}}) {
        const Parsed p = Parse(folded, piece);
        EXPECT_EQ(p.status, Status::bad_request) << piece;
        EXPECT_EQ(p.refusal, Refusal::folded_header) << piece;
    }
    const Parsed tab = Parse("GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n\tc\r\n\r\n");
    EXPECT_EQ(tab.refusal, Refusal::folded_header);
    // A fold after an empty first line, and folds of nothing but whitespace: Beast leaves
    // these values in place rather than in its buffer.
    for (const char* field : {"X-A:\r\n c", "X-A: \r\n c", "X-A: \r\n \r\n ", "X-A:\r\n\t\r\n\t"}) {
        const std::string text = std::string("GET / HTTP/1.1\r\nHost: a\r\n") + field + "\r\n\r\n";
        for (std::size_t piece : {std::size_t{0}, std::size_t{1}, std::size_t{5}}) {
            const Parsed p = Parse(text, piece);
            EXPECT_EQ(p.status, Status::bad_request) << field << " / " << piece;
            EXPECT_EQ(p.refusal, Refusal::folded_header) << field << " / " << piece;
        }
    }
    // Empty values and whitespace inside a value are no folds.
    const Parsed plain =
        Parse("GET / HTTP/1.1\r\nHost: a\r\nX-A:\r\nX-B: \r\nX-C: b  c\r\n\r\n", 3);
    EXPECT_TRUE(plain.done);
    EXPECT_EQ(plain.refusal, Refusal::none);
    EXPECT_EQ(request.header("X-C"), "b  c");
}

TEST_F(RequestParserTest, WhitespaceBeforeTheFirstFieldIs400) {
    const Parsed p = Parse("GET / HTTP/1.1\r\n Host: a\r\n\r\n");
    EXPECT_EQ(p.status, Status::bad_request);
}

TEST_F(RequestParserTest, AHeaderOverTheLimitIs431EvenOverManyReads) {
    limits.max_header_bytes = 64;
    const std::string big =
        "GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + std::string(100, 'x') + "\r\n\r\n";
    EXPECT_EQ(Parse(big).status, Status::request_header_fields_too_large);
    EXPECT_EQ(Parse(big, 10).status, Status::request_header_fields_too_large);
}

TEST_F(RequestParserTest, ABodyOverTheLimitIs413) {
    limits.max_body_bytes = 4;
    EXPECT_EQ(Parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello").status,
              Status::payload_too_large);
}

// RFC 9112 3.2.
TEST_F(RequestParserTest, Http11WithoutHostIs400) {
    const Parsed p = Parse("GET / HTTP/1.1\r\nAccept: */*\r\n\r\n");
    EXPECT_EQ(p.status, Status::bad_request);
    EXPECT_EQ(p.refusal, Refusal::bad_host);
}

TEST_F(RequestParserTest, TwoHostLinesAre400InAnyVersion) {
    EXPECT_EQ(Parse("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n").refusal, Refusal::bad_host);
    EXPECT_EQ(Parse("GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n").refusal, Refusal::bad_host);
}

TEST_F(RequestParserTest, Http10WithoutHostIsServed) {
    EXPECT_TRUE(Parse("GET / HTTP/1.0\r\n\r\n").done);
}

// RFC 9112 3.2.2: the absolute form is accepted and routed by its path and query.
TEST_F(RequestParserTest, AbsoluteFormTargetIsRoutedByItsPathAndQuery) {
    ASSERT_TRUE(
        Parse("GET http://example.com:8080/users/7?full=1 HTTP/1.1\r\nHost: x\r\n\r\n").done);
    EXPECT_EQ(request.raw_path(), "/users/7");
    EXPECT_EQ(request.query("full").value_or(""), "1");
    ASSERT_TRUE(Parse("GET HTTPS://example.com HTTP/1.1\r\nHost: x\r\n\r\n").done);
    EXPECT_EQ(request.raw_path(), "/");
}

TEST_F(RequestParserTest, TargetsInNoAcceptedFormAre400) {
    for (const char* target : {"ftp://example.com/a", "users/7", "http:/no-authority", "*"}) {
        const Parsed p = Parse(std::string("GET ") + target + " HTTP/1.1\r\nHost: a\r\n\r\n");
        EXPECT_EQ(p.status, Status::bad_request) << target;
    }
    EXPECT_TRUE(Parse("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n").done);
}

// RFC 9110 10.1.1.
TEST_F(RequestParserTest, ExpectContinueIsSeenInHttp11Only) {
    const std::string head =
        "POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n"
        "Content-Length: 5\r\n\r\n";
    EXPECT_TRUE(Parse(head).expects_continue);
    EXPECT_FALSE(Parse("POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
                     .expects_continue);
    EXPECT_FALSE(Parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n").expects_continue);
}

}  // namespace
}  // namespace flamecpp::detail
