// Integration tests of the `hello` sample against the samples' contract
// (docs: shared/samples-contract.md): the "Every sample binary" rules, the limits table and the
// `hello` table, checked over real loopback sockets against the real binary.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <ctime>
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "http_client.hpp"
#include "process.hpp"

#ifndef FLAMECPP_SAMPLE_HELLO
#error "FLAMECPP_SAMPLE_HELLO must be defined as the path of the hello sample executable"
#endif

namespace {

using namespace std::chrono_literals;
using namespace std::string_view_literals;
using flamecpp::test::http_get;
using flamecpp::test::make_request;
using flamecpp::test::parse_imf_fixdate;
using flamecpp::test::RawConnection;
using flamecpp::test::Response;
using flamecpp::test::RunResult;
using flamecpp::test::SampleProcess;
using Clock = std::chrono::steady_clock;

constexpr const char* kSample = FLAMECPP_SAMPLE_HELLO;
constexpr std::string_view kRootBody = "Hello, world!";
constexpr auto kIo = 5s;         // any single answer
constexpr auto kCloseWait = 3s;  // closing after an answer; less than the 5 s idle timeout
constexpr auto kExitWait = 10s;  // a process that must exit on its own (bad command line)

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string lowercase(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = lower(c);
    return out;
}

bool contains_ci(std::string_view haystack, std::string_view needle) {
    return lowercase(haystack).find(lowercase(needle)) != std::string::npos;
}

bool starts_with_ci(std::string_view s, std::string_view prefix) {
    return s.size() >= prefix.size() && lowercase(s.substr(0, prefix.size())) == lowercase(prefix);
}

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

// "Every response carries Server and Date headers and a correct Content-Length (or chunked
// encoding for streamed bodies)." Date must be an IMF-fixdate close to now.
void ExpectCommonHeaders(const Response& r, bool head_request = false) {
    const auto server = r.header("Server");
    EXPECT_TRUE(server.has_value() && !server->empty())
        << "status " << r.status << ": missing or empty Server header";
    const auto date = r.header("Date");
    if (!date.has_value()) {
        ADD_FAILURE() << "status " << r.status << ": missing Date header";
    } else {
        const auto when = parse_imf_fixdate(*date);
        EXPECT_TRUE(when.has_value()) << "Date is not an IMF-fixdate: \"" << *date << '"';
        if (when.has_value()) {
            EXPECT_LE(std::fabs(std::difftime(*when, std::time(nullptr))), 60.0)
                << "Date is not the current time: \"" << *date << '"';
        }
    }
    if (r.chunked) {
        EXPECT_EQ(r.header_count("Content-Length"), 0u)
            << "a chunked response must not carry Content-Length";
        return;
    }
    ASSERT_EQ(r.header_count("Content-Length"), 1u)
        << "status " << r.status << ": expected exactly one Content-Length header";
    if (!head_request) {
        EXPECT_EQ(r.header("Content-Length").value_or(""), std::to_string(r.body.size()));
    }
}

void ExpectHelloWorld(const Response& r) {
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, kRootBody);
}

// "After each hostile input, a fresh connection is still served."
void ExpectFreshConnectionServed(std::uint16_t port) {
    const Response r = http_get(port, "/", kIo);
    ExpectHelloWorld(r);
}

// Reads the answer to a bad request, checks its status, and that the server then closes.
void ExpectAnswerThenClose(RawConnection& c, int status) {
    const Response r = c.read_response(kIo);
    EXPECT_EQ(r.status, status) << "body: " << r.body;
    ExpectCommonHeaders(r);
    EXPECT_TRUE(c.wait_closed(kCloseWait))
        << "the server kept the connection open after answering " << status;
    EXPECT_EQ(c.pending(), "") << "unexpected bytes after the " << status << " answer";
}

// A request whose header block (request line to the final CRLF included) has about
// `total_bytes` bytes, made of 100-byte filler lines.
std::string RequestWithHeaderBlockOf(std::size_t total_bytes) {
    std::string request = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    for (int i = 0; request.size() + 2 < total_bytes; ++i) {
        std::string line = "X-Fill-" + std::to_string(i) + ": ";
        line.append(100 - 2 - line.size(), 'a');
        request += line + "\r\n";
    }
    return request + "\r\n";
}

// One SampleProcess per test suite (`Suite` only makes the static members distinct per suite).
// A test that kills the server is reported by TearDown and the server is restarted for the next
// test.
template <typename Suite>
class SampleServer : public ::testing::Test {
protected:
    static void SetUpTestSuite() { Launch(); }

    static void TearDownTestSuite() {
        if (server_)
            server_->stop();
        server_.reset();
    }

    void SetUp() override {
        if (server_ && !server_->running())
            Launch();
        if (!server_)
            GTEST_FAIL() << "could not start the sample: " << launch_error_;
    }

    void TearDown() override {
        // A failed test may have crashed the server: give a dying process a moment to be seen.
        if (server_ && (HasFailure() ? server_->wait_for_exit(1s) : !server_->running())) {
            ADD_FAILURE() << "the sample died during this test (exit code "
                          << server_->exit_code().value_or(-1) << ")";
        }
    }

    static std::uint16_t port() { return server_->port(); }

private:
    static void Launch() {
        server_.reset();
        try {
            server_ = std::make_unique<SampleProcess>(SampleProcess::start(kSample));
            launch_error_.clear();
        } catch (const std::exception& e) {
            launch_error_ = e.what();
        }
    }

    static inline std::unique_ptr<SampleProcess> server_;
    static inline std::string launch_error_;
};

// ---------------------------------------------------------------------------------------------
// Command line: "A bad flag or value prints a one-line error and usage to stderr and exits 2."

void ExpectUsageError(const RunResult& r) {
    EXPECT_EQ(r.exit_code, 2) << "stderr: " << r.stderr_text;
    const auto newline = r.stderr_text.find('\n');
    ASSERT_NE(newline, std::string::npos)
        << "expected a one-line error followed by usage on stderr, got: \"" << r.stderr_text << '"';
    EXPECT_NE(r.stderr_text.find_first_not_of(" \t\r"), newline)
        << "the first stderr line (the error) is empty";
    const std::string after_error = r.stderr_text.substr(newline + 1);
    EXPECT_TRUE(contains_ci(after_error, "usage"))
        << "usage should follow the one-line error: \"" << r.stderr_text << '"';
    EXPECT_NE(after_error.find("--port"), std::string::npos)
        << "usage should list the flags: \"" << r.stderr_text << '"';
    EXPECT_EQ(r.stdout_text.find("listening on"), std::string::npos)
        << "a bad command line must not start the server";
}

TEST(HelloCommandLine, UnknownFlagExitsTwoWithOneLineErrorAndUsage) {
    ExpectUsageError(
        SampleProcess::run_to_exit(kSample, {"--port", "0", "--no-such-flag"}, kExitWait));
}

TEST(HelloCommandLine, NonNumericPortExitsTwo) {
    ExpectUsageError(SampleProcess::run_to_exit(kSample, {"--port", "http"}, kExitWait));
}

TEST(HelloCommandLine, OutOfRangePortExitsTwo) {
    ExpectUsageError(SampleProcess::run_to_exit(kSample, {"--port", "65536"}, kExitWait));
}

TEST(HelloCommandLine, UnknownLogLevelExitsTwo) {
    ExpectUsageError(
        SampleProcess::run_to_exit(kSample, {"--port", "0", "--log-level", "loud"}, kExitWait));
}

TEST(HelloCommandLine, NonNumericThreadsExitsTwo) {
    ExpectUsageError(
        SampleProcess::run_to_exit(kSample, {"--port", "0", "--threads", "many"}, kExitWait));
}

TEST(HelloCommandLine, MissingFlagValueExitsTwo) {
    ExpectUsageError(SampleProcess::run_to_exit(kSample, {"--port", "0", "--threads"}, kExitWait));
}

TEST(HelloCommandLine, HelpExitsZeroWithUsage) {
    const RunResult r = SampleProcess::run_to_exit(kSample, {"--help"}, kExitWait);
    EXPECT_EQ(r.exit_code, 0) << "stderr: " << r.stderr_text;
    const std::string all = r.stdout_text + r.stderr_text;
    for (const char* flag : {"--host", "--port", "--threads", "--log-level", "--help"}) {
        EXPECT_NE(all.find(flag), std::string::npos) << "--help output does not mention " << flag;
    }
    EXPECT_EQ(all.find("listening on"), std::string::npos) << "--help must not start the server";
}

// ---------------------------------------------------------------------------------------------
// Process lifecycle: listening line, SIGTERM, SIGINT. Each test owns its process.

TEST(HelloLifecycle, ListeningLineShowsDefaultHostAndRealPort) {
    SampleProcess server = SampleProcess::start(kSample);
    EXPECT_EQ(server.host(), "127.0.0.1");
    EXPECT_NE(server.port(), 0);
    ExpectFreshConnectionServed(server.port());
    const std::string out = server.captured_stdout();
    EXPECT_EQ(out.find("listening on"), out.rfind("listening on"))
        << "the listening line must be printed once; stdout: " << out;
    EXPECT_EQ(server.stop(), 0);
}

TEST(HelloLifecycle, SigtermExitsZero) {
    SampleProcess server = SampleProcess::start(kSample);
    ExpectFreshConnectionServed(server.port());
    EXPECT_EQ(server.stop(SIGTERM), 0);
}

TEST(HelloLifecycle, SigintExitsZero) {
    SampleProcess server = SampleProcess::start(kSample);
    ExpectFreshConnectionServed(server.port());
    EXPECT_EQ(server.stop(SIGINT), 0);
}

TEST(HelloLifecycle, SigtermWithIdleKeepAliveConnectionExitsZeroAndClosesIt) {
    SampleProcess server = SampleProcess::start(kSample);
    RawConnection c(server.port());
    c.send(make_request("GET", "/"));
    ExpectHelloWorld(c.read_response(kIo));
    // Grace period is 10 s by default; stop() allows 15 s.
    EXPECT_EQ(server.stop(SIGTERM), 0);
    EXPECT_TRUE(c.wait_closed(1s)) << "the idle connection outlived the process";
}

// ---------------------------------------------------------------------------------------------
// HTTP behaviour every sample shares, plus the `hello` table.

class HelloContract : public SampleServer<HelloContract> {};

TEST_F(HelloContract, RootSaysHelloWorldAsUtf8PlainText) {
    const Response r = http_get(port(), "/", kIo);
    ExpectHelloWorld(r);
    EXPECT_EQ(lowercase(r.header("Content-Type").value_or("<none>")), "text/plain; charset=utf-8");
    EXPECT_EQ(r.header("Content-Length").value_or("<none>"), "13");
    ExpectCommonHeaders(r);
}

TEST_F(HelloContract, UsernameIsGreeted) {
    const Response r = http_get(port(), "/someone", kIo);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "Hello, someone");
    ExpectCommonHeaders(r);
}

TEST_F(HelloContract, UsernameIsPercentDecoded) {
    const Response r = http_get(port(), "/caf%C3%A9", kIo);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "Hello, caf\xC3\xA9");  // "Hello, café" in UTF-8
    ExpectCommonHeaders(r);
}

TEST_F(HelloContract, HeadKeepsContentLengthWithoutBody) {
    RawConnection c(port());
    // The GET behind the HEAD only parses if the HEAD answer carried no body bytes.
    c.send(make_request("HEAD", "/") + make_request("GET", "/"));
    const Response head = c.read_response(kIo, /*head_request=*/true);
    EXPECT_EQ(head.status, 200);
    EXPECT_EQ(head.header("Content-Length").value_or("<none>"), "13");
    EXPECT_EQ(head.body, "");
    ExpectCommonHeaders(head, /*head_request=*/true);
    const Response get = c.read_response(kIo);
    ExpectHelloWorld(get);
    EXPECT_EQ(c.pending(), "") << "bytes left over after HEAD and GET";
}

void ExpectMethodNotAllowedOnRoot(std::uint16_t port, std::string_view method) {
    RawConnection c(port);
    c.send(make_request(method, "/", {{"Content-Length", "0"}}));
    const Response r = c.read_response(kIo);
    EXPECT_EQ(r.status, 405);
    EXPECT_EQ(r.header("Allow").value_or("<none>"), "GET, HEAD");
    EXPECT_EQ(r.body, "Method Not Allowed");
    ExpectCommonHeaders(r);
}

TEST_F(HelloContract, PostOnRootIs405AllowingGetHead) {
    ExpectMethodNotAllowedOnRoot(port(), "POST");
}

TEST_F(HelloContract, PutOnRootIs405AllowingGetHead) {
    ExpectMethodNotAllowedOnRoot(port(), "PUT");
}

TEST_F(HelloContract, DeleteOnRootIs405AllowingGetHead) {
    ExpectMethodNotAllowedOnRoot(port(), "DELETE");
}

TEST_F(HelloContract, PatchOnRootIs405AllowingGetHead) {
    ExpectMethodNotAllowedOnRoot(port(), "PATCH");
}

TEST_F(HelloContract, TwoSegmentPathIs404) {
    const Response r = http_get(port(), "/a/b", kIo);
    EXPECT_EQ(r.status, 404);
    ExpectCommonHeaders(r);
}

TEST_F(HelloContract, UnknownPathIs404NotFoundPlainText) {
    const Response r = http_get(port(), "/no/such/path", kIo);
    EXPECT_EQ(r.status, 404);
    EXPECT_TRUE(starts_with_ci(r.header("Content-Type").value_or(""), "text/plain"))
        << "Content-Type: " << r.header("Content-Type").value_or("<none>");
    EXPECT_NE(r.body.find("Not Found"), std::string::npos) << "body: " << r.body;
    ExpectCommonHeaders(r);
}

TEST_F(HelloContract, ResponsesCarryServerAndImfFixdateDate) {
    for (const char* target : {"/", "/someone", "/a/b"}) {
        SCOPED_TRACE(target);
        ExpectCommonHeaders(http_get(port(), target, kIo));
    }
    RawConnection c(port());
    c.send(make_request("POST", "/", {{"Content-Length", "0"}}));
    ExpectCommonHeaders(c.read_response(kIo));
}

TEST_F(HelloContract, ContentLengthMatchesBytesOnTheWire) {
    // Each answer is followed by a GET / on the same connection: a Content-Length that is too
    // small leaves bytes that break the next parse, one that is too large eats into it.
    struct Case {
        const char* method;
        const char* target;
    };
    for (const Case& k : {Case{"GET", "/"}, Case{"GET", "/someone"}, Case{"GET", "/caf%C3%A9"},
                          Case{"GET", "/a/b"}, Case{"POST", "/"}}) {
        SCOPED_TRACE(std::string(k.method) + " " + k.target);
        RawConnection c(port());
        c.send(make_request(k.method, k.target, {{"Content-Length", "0"}}));
        const Response first = c.read_response(kIo);
        ExpectCommonHeaders(first);
        EXPECT_EQ(c.pending(), "") << "bytes beyond Content-Length";
        c.send(make_request("GET", "/"));
        ExpectHelloWorld(c.read_response(kIo));
    }
}

TEST_F(HelloContract, KeepAliveServesTwoRequestsOnOneConnection) {
    RawConnection c(port());
    c.send(make_request("GET", "/"));
    const Response first = c.read_response(kIo);
    ExpectHelloWorld(first);
    EXPECT_FALSE(first.header_has_token("Connection", "close"));
    c.send(make_request("GET", "/second"));
    const Response second = c.read_response(kIo);
    EXPECT_EQ(second.status, 200);
    EXPECT_EQ(second.body, "Hello, second");
}

TEST_F(HelloContract, PipelinedRequestsAreAnsweredInOrder) {
    RawConnection c(port());
    c.send(make_request("GET", "/") + make_request("GET", "/alice") + make_request("GET", "/bob"));
    const Response first = c.read_response(kIo);
    const Response second = c.read_response(kIo);
    const Response third = c.read_response(kIo);
    ExpectHelloWorld(first);
    EXPECT_EQ(second.status, 200);
    EXPECT_EQ(second.body, "Hello, alice");
    EXPECT_EQ(third.status, 200);
    EXPECT_EQ(third.body, "Hello, bob");
    EXPECT_EQ(c.pending(), "");
}

TEST_F(HelloContract, Http10WithoutKeepAliveIsClosedAfterResponse) {
    RawConnection c(port());
    c.send(make_request("GET", "/", {}, {}, "HTTP/1.0"));
    const Response r = c.read_response(kIo);
    ExpectHelloWorld(r);
    ExpectCommonHeaders(r);
    EXPECT_TRUE(c.wait_closed(kCloseWait)) << "HTTP/1.0 without keep-alive must be closed";
}

TEST_F(HelloContract, Http10WithKeepAliveStaysOpen) {
    RawConnection c(port());
    const std::string request =
        make_request("GET", "/", {{"Connection", "keep-alive"}}, {}, "HTTP/1.0");
    c.send(request);
    const Response first = c.read_response(kIo);
    ExpectHelloWorld(first);
    ExpectCommonHeaders(first);
    // RFC 9112 9.3: an HTTP/1.0 answer is persistent only if it says keep-alive.
    EXPECT_FALSE(first.header_has_token("Connection", "close"));
    if (first.version == 10) {
        EXPECT_TRUE(first.header_has_token("Connection", "keep-alive"));
    }
    EXPECT_FALSE(c.wait_closed(500ms)) << "the server closed a keep-alive HTTP/1.0 connection";
    c.send(request);
    ExpectHelloWorld(c.read_response(kIo));
}

TEST_F(HelloContract, ChunkedRequestBodyKeepsFraming) {
    RawConnection c(port());
    c.send(
        "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"
        "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n" +
        make_request("GET", "/after"));
    const Response post = c.read_response(kIo);
    EXPECT_EQ(post.status, 405);
    ExpectCommonHeaders(post);
    const Response get = c.read_response(kIo);
    EXPECT_EQ(get.status, 200);
    EXPECT_EQ(get.body, "Hello, after");
}

TEST_F(HelloContract, SizedRequestBodyKeepsFraming) {
    RawConnection c(port());
    c.send(make_request("POST", "/", {}, "GET /smuggled HTTP/1.1\r\n\r\n") +
           make_request("GET", "/after"));
    const Response post = c.read_response(kIo);
    EXPECT_EQ(post.status, 405);
    const Response get = c.read_response(kIo);
    EXPECT_EQ(get.status, 200);
    EXPECT_EQ(get.body, "Hello, after") << "the request body was parsed as a request";
    EXPECT_EQ(c.pending(), "");
}

// ---------------------------------------------------------------------------------------------
// Limits and bad input. Each test ends by checking that a fresh connection is still served.

class HelloLimits : public SampleServer<HelloLimits> {};

TEST_F(HelloLimits, MalformedRequestLineIs400AndCloses) {
    RawConnection c(port());
    c.send("THIS IS NOT HTTP\r\n\r\n");
    ExpectAnswerThenClose(c, 400);
    ExpectFreshConnectionServed(port());
}

TEST_F(HelloLimits, MalformedHeaderLineIs400AndCloses) {
    RawConnection c(port());
    c.send("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nthis header line has no colon\r\n\r\n");
    ExpectAnswerThenClose(c, 400);
    ExpectFreshConnectionServed(port());
}

TEST_F(HelloLimits, HeaderBlockUnder16KiBIsServed) {
    RawConnection c(port());
    c.send(RequestWithHeaderBlockOf(15 * 1024));
    const Response r = c.read_response(kIo);
    ExpectHelloWorld(r);
    ExpectCommonHeaders(r);
}

TEST_F(HelloLimits, HeaderBlockOver16KiBIs431AndCloses) {
    RawConnection c(port());
    c.send(RequestWithHeaderBlockOf(17 * 1024));
    ExpectAnswerThenClose(c, 431);
    ExpectFreshConnectionServed(port());
}

TEST_F(HelloLimits, DeclaredBodyOver1MiBIs413AndCloses) {
    RawConnection c(port());
    c.send("POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2000000\r\n\r\n");
    ExpectAnswerThenClose(c, 413);
    ExpectFreshConnectionServed(port());
}

TEST_F(HelloLimits, ChunkedBodyGrowingOver1MiBIs413AndCloses) {
    RawConnection c(port());
    c.send("POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n");
    const std::string chunk = "10000\r\n" + std::string(0x10000, 'a') + "\r\n";  // 64 KiB
    // 2 MiB in all. The server may answer and close midway: then sending fails, which is fine.
    bool sending = true;
    for (int i = 0; i < 32 && sending; ++i) sending = c.try_send(chunk);
    if (sending)
        c.try_send("0\r\n\r\n");
    ExpectAnswerThenClose(c, 413);
    ExpectFreshConnectionServed(port());
}

TEST_F(HelloLimits, ContentLengthWithTransferEncodingIs400AndCloses) {
    RawConnection c(port());
    c.send(
        "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\n"
        "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
    ExpectAnswerThenClose(c, 400);
    ExpectFreshConnectionServed(port());
}

TEST_F(HelloLimits, NonNumericContentLengthIs400AndCloses) {
    RawConnection c(port());
    c.send("POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: abc\r\n\r\n");
    ExpectAnswerThenClose(c, 400);
    ExpectFreshConnectionServed(port());
}

TEST_F(HelloLimits, TransferEncodingOtherThanChunkedIs501AndCloses) {
    RawConnection c(port());
    c.send("POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: gzip\r\n\r\n");
    ExpectAnswerThenClose(c, 501);
    ExpectFreshConnectionServed(port());
}

TEST_F(HelloLimits, BadInputDoesNotDisturbOtherConnections) {
    RawConnection bystander(port());
    bystander.send(make_request("GET", "/"));
    ExpectHelloWorld(bystander.read_response(kIo));

    RawConnection attacker(port());
    // The start of a TLS ClientHello (NUL bytes included), then a blank line.
    attacker.send("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not http at all\r\n\r\n"sv);
    ExpectAnswerThenClose(attacker, 400);

    bystander.send(make_request("GET", "/"));
    ExpectHelloWorld(bystander.read_response(kIo));
    ExpectFreshConnectionServed(port());
}

// ---------------------------------------------------------------------------------------------
// Timeouts: slow on purpose (5-13 s each), hence a suite of their own ("Slow" in the name).

class HelloSlowLimits : public SampleServer<HelloSlowLimits> {};

TEST_F(HelloSlowLimits, IdleKeepAliveConnectionIsClosedAfterFiveSeconds) {
    RawConnection c(port());
    c.send(make_request("GET", "/"));
    ExpectHelloWorld(c.read_response(kIo));
    const auto idle_since = Clock::now();
    EXPECT_TRUE(c.wait_closed(8s)) << "an idle keep-alive connection is still open after 8 s";
    const double idle = seconds_since(idle_since);
    EXPECT_GE(idle, 4.0) << "closed after " << idle << " s of idleness, expected about 5 s";
    EXPECT_EQ(c.pending(), "") << "the server sent bytes on an idle connection";
    ExpectFreshConnectionServed(port());
}

// The server either answers 408 before closing or just closes; whatever it sent is checked.
void ExpectTimeoutAnswerIfAny(RawConnection& c) {
    if (c.pending().empty())
        return;
    const Response r = c.read_response(kIo);
    EXPECT_EQ(r.status, 408);
    ExpectCommonHeaders(r);
}

TEST_F(HelloSlowLimits, IncompleteHeadersGet408OrCloseWithinTenSeconds) {
    RawConnection c(port());
    const auto first_byte = Clock::now();
    c.send("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n");  // no blank line: headers never end
    EXPECT_TRUE(c.wait_closed(13s)) << "incomplete headers kept the connection open for 13 s";
    const double waited = seconds_since(first_byte);
    EXPECT_GE(waited, 8.0) << "closed after " << waited << " s, expected about 10 s";
    ExpectTimeoutAnswerIfAny(c);
    ExpectFreshConnectionServed(port());
}

TEST_F(HelloSlowLimits, TrickledHeadersStillTimeOutTenSecondsAfterFirstByte) {
    RawConnection c(port());
    const auto first_byte = Clock::now();
    c.send("GET / HTTP/1.1\r\n");
    // One more header line every second: the connection is never idle, but the header block
    // is not complete within 10 s of its first byte.
    bool closed = false;
    const auto give_up = first_byte + 13s;
    for (int i = 0; !closed && Clock::now() < give_up; ++i) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(give_up - Clock::now());
        closed = c.wait_closed(std::min<std::chrono::milliseconds>(1s, left));
        if (!closed)
            c.try_send("X-Trickle-" + std::to_string(i) + ": x\r\n", 1s);
    }
    EXPECT_TRUE(closed) << "trickled headers kept the connection open for 13 s";
    const double waited = seconds_since(first_byte);
    EXPECT_GE(waited, 8.0) << "closed after " << waited << " s, expected about 10 s";
    ExpectTimeoutAnswerIfAny(c);
    ExpectFreshConnectionServed(port());
}

}  // namespace
