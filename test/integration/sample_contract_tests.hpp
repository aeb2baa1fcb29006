// The contract tests every sample binary shares (docs/samples.md): the "Every
// sample binary" rules and the limits table, written once and run against the sample given as
// the test parameter. Each <sample>_contract_test.cpp includes this header once and instantiates
// every suite below with its SampleTraits, e.g.
//     INSTANTIATE_TEST_SUITE_P(HelloContract, Limits, ::testing::Values(kHello));
// The timing tests are in SlowLimits: CMake runs the suites with "Slow" in their name under the
// `slow` label, the others under `integration`.
#pragma once

#include <algorithm>
#include <chrono>
#include <csignal>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "contract_checks.hpp"
#include "http_client.hpp"
#include "process.hpp"

namespace flamecpp::test {

// ---------------------------------------------------------------------------------------------
// Command line: "A bad flag or value prints a one-line error and usage to stderr and exits 2."

class CommandLine : public ::testing::TestWithParam<SampleTraits> {};

TEST_P(CommandLine, UnknownFlagExitsTwoWithOneLineErrorAndUsage) {
    ExpectUsageError(SampleProcess::run_to_exit(GetParam().executable,
                                                {"--port", "0", "--no-such-flag"}, kExitWait));
}

TEST_P(CommandLine, NonNumericPortExitsTwo) {
    ExpectUsageError(
        SampleProcess::run_to_exit(GetParam().executable, {"--port", "http"}, kExitWait));
}

TEST_P(CommandLine, OutOfRangePortExitsTwo) {
    ExpectUsageError(
        SampleProcess::run_to_exit(GetParam().executable, {"--port", "65536"}, kExitWait));
}

TEST_P(CommandLine, UnknownLogLevelExitsTwo) {
    ExpectUsageError(SampleProcess::run_to_exit(GetParam().executable,
                                                {"--port", "0", "--log-level", "loud"}, kExitWait));
}

TEST_P(CommandLine, NonNumericThreadsExitsTwo) {
    ExpectUsageError(SampleProcess::run_to_exit(GetParam().executable,
                                                {"--port", "0", "--threads", "many"}, kExitWait));
}

TEST_P(CommandLine, MissingFlagValueExitsTwo) {
    ExpectUsageError(
        SampleProcess::run_to_exit(GetParam().executable, {"--port", "0", "--threads"}, kExitWait));
}

TEST_P(CommandLine, HelpExitsZeroWithUsage) {
    const RunResult r = SampleProcess::run_to_exit(GetParam().executable, {"--help"}, kExitWait);
    EXPECT_EQ(r.exit_code, 0) << "stderr: " << r.stderr_text;
    const std::string all = r.stdout_text + r.stderr_text;
    for (const char* flag : {"--host", "--port", "--threads", "--log-level", "--help"}) {
        EXPECT_NE(all.find(flag), std::string::npos) << "--help output does not mention " << flag;
    }
    EXPECT_EQ(all.find("listening on"), std::string::npos) << "--help must not start the server";
}

// ---------------------------------------------------------------------------------------------
// Process lifecycle: listening line, SIGTERM, SIGINT. Each test owns its process.

class Lifecycle : public ::testing::TestWithParam<SampleTraits> {};

TEST_P(Lifecycle, ListeningLineShowsDefaultHostAndRealPort) {
    SampleProcess server = SampleProcess::start(GetParam().executable);
    EXPECT_EQ(server.host(), "127.0.0.1");
    EXPECT_NE(server.port(), 0);
    ExpectFreshConnectionServed(GetParam(), server.port());
    const std::string out = server.captured_stdout();
    EXPECT_EQ(out.find("listening on"), out.rfind("listening on"))
        << "the listening line must be printed once; stdout: " << out;
    EXPECT_EQ(server.stop(), 0);
}

TEST_P(Lifecycle, SigtermExitsZero) {
    SampleProcess server = SampleProcess::start(GetParam().executable);
    ExpectFreshConnectionServed(GetParam(), server.port());
    EXPECT_EQ(server.stop(SIGTERM), 0);
}

TEST_P(Lifecycle, SigintExitsZero) {
    SampleProcess server = SampleProcess::start(GetParam().executable);
    ExpectFreshConnectionServed(GetParam(), server.port());
    EXPECT_EQ(server.stop(SIGINT), 0);
}

TEST_P(Lifecycle, SigtermWithIdleKeepAliveConnectionExitsZeroAndClosesIt) {
    const SampleTraits& sample = GetParam();
    SampleProcess server = SampleProcess::start(sample.executable);
    RawConnection c(server.port());
    c.send(make_request("GET", sample.ok.target));
    ExpectAnswer(c.read_response(kIo), sample.ok);
    // Grace period is 10 s by default; stop() allows 15 s.
    EXPECT_EQ(server.stop(SIGTERM), 0);
    EXPECT_TRUE(c.wait_closed(std::chrono::seconds(1)))
        << "the idle connection outlived the process";
}

// ---------------------------------------------------------------------------------------------
// HTTP behaviour every sample shares: errors, headers, framing and connection reuse.

class Http : public SharedSampleServer<Http> {};

TEST_P(Http, UnknownPathIs404NotFoundPlainText) {
    const Response r = http_get(port(), "/no/such/path", kIo);
    EXPECT_EQ(r.status, 404);
    EXPECT_TRUE(starts_with_ci(r.header("Content-Type").value_or(""), GetParam().not_found_type))
        << "Content-Type: " << r.header("Content-Type").value_or("<none>");
    EXPECT_NE(r.body.find("Not Found"), std::string::npos) << "body: " << r.body;
    ExpectCommonHeaders(r);
}

TEST_P(Http, ResponsesCarryServerAndImfFixdateDate) {
    for (const Probe& probe : GetParam().probes) {
        SCOPED_TRACE(std::string(probe.method) + " " + std::string(probe.target));
        if (probe.method == "GET") {
            ExpectCommonHeaders(http_get(port(), std::string(probe.target), kIo));
        } else {
            RawConnection c(port());
            c.send(make_request(probe.method, probe.target, {{"Content-Length", "0"}}));
            ExpectCommonHeaders(c.read_response(kIo));
        }
    }
}

TEST_P(Http, ContentLengthMatchesBytesOnTheWire) {
    // Each answer is followed by the known-good GET on the same connection: a Content-Length
    // that is too small leaves bytes that break the next parse, one that is too large eats into
    // it.
    const SampleTraits& sample = GetParam();
    for (const Probe& probe : sample.probes) {
        SCOPED_TRACE(std::string(probe.method) + " " + std::string(probe.target));
        RawConnection c(port());
        c.send(make_request(probe.method, probe.target, {{"Content-Length", "0"}}));
        const Response first = c.read_response(kIo);
        ExpectCommonHeaders(first);
        EXPECT_EQ(c.pending(), "") << "bytes beyond Content-Length";
        c.send(make_request("GET", sample.ok.target));
        ExpectAnswer(c.read_response(kIo), sample.ok);
    }
}

TEST_P(Http, KeepAliveServesTwoRequestsOnOneConnection) {
    const SampleTraits& sample = GetParam();
    RawConnection c(port());
    c.send(make_request("GET", sample.ok.target));
    const Response first = c.read_response(kIo);
    ExpectAnswer(first, sample.ok);
    EXPECT_FALSE(first.header_has_token("Connection", "close"));
    c.send(make_request("GET", sample.next.target));
    ExpectAnswer(c.read_response(kIo), sample.next);
}

TEST_P(Http, PipelinedRequestsAreAnsweredInOrder) {
    const SampleTraits& sample = GetParam();
    ASSERT_GE(sample.pipeline.size(), 2u) << "pipelining needs at least two requests";
    std::string requests;
    for (const Exchange& e : sample.pipeline) requests += make_request("GET", e.target);
    RawConnection c(port());
    c.send(requests);
    std::vector<Response> answers;
    for (std::size_t i = 0; i < sample.pipeline.size(); ++i)
        answers.push_back(c.read_response(kIo));
    for (std::size_t i = 0; i < sample.pipeline.size(); ++i) {
        SCOPED_TRACE("answer #" + std::to_string(i + 1));
        ExpectAnswer(answers[i], sample.pipeline[i]);
    }
    EXPECT_EQ(c.pending(), "");
}

TEST_P(Http, Http10WithoutKeepAliveIsClosedAfterResponse) {
    const SampleTraits& sample = GetParam();
    RawConnection c(port());
    c.send(make_request("GET", sample.ok.target, {}, {}, "HTTP/1.0"));
    const Response r = c.read_response(kIo);
    ExpectAnswer(r, sample.ok);
    ExpectCommonHeaders(r);
    EXPECT_TRUE(c.wait_closed(kCloseWait)) << "HTTP/1.0 without keep-alive must be closed";
}

TEST_P(Http, Http10WithKeepAliveStaysOpen) {
    const SampleTraits& sample = GetParam();
    RawConnection c(port());
    const std::string request =
        make_request("GET", sample.ok.target, {{"Connection", "keep-alive"}}, {}, "HTTP/1.0");
    c.send(request);
    const Response first = c.read_response(kIo);
    ExpectAnswer(first, sample.ok);
    ExpectCommonHeaders(first);
    // RFC 9112 9.3: an HTTP/1.0 answer is persistent only if it says keep-alive.
    EXPECT_FALSE(first.header_has_token("Connection", "close"));
    if (first.version == 10) {
        EXPECT_TRUE(first.header_has_token("Connection", "keep-alive"));
    }
    EXPECT_FALSE(c.wait_closed(std::chrono::milliseconds(500)))
        << "the server closed a keep-alive HTTP/1.0 connection";
    c.send(request);
    ExpectAnswer(c.read_response(kIo), sample.ok);
}

// A sample without a POST route may answer anything (post_status unset), but the body must
// still be consumed as a body.
TEST_P(Http, ChunkedRequestBodyKeepsFraming) {
    const SampleTraits& sample = GetParam();
    RawConnection c(port());
    c.send(RequestLine("POST", sample.ok.target) +
           "Host: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"
           "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n" +
           make_request("GET", sample.next.target));
    const Response post = c.read_response(kIo);
    if (sample.post_status.has_value()) {
        EXPECT_EQ(post.status, *sample.post_status);
    }
    ExpectCommonHeaders(post);
    ExpectAnswer(c.read_response(kIo), sample.next);
}

TEST_P(Http, SizedRequestBodyKeepsFraming) {
    const SampleTraits& sample = GetParam();
    RawConnection c(port());
    c.send(make_request("POST", sample.ok.target, {}, "GET /smuggled HTTP/1.1\r\n\r\n") +
           make_request("GET", sample.next.target));
    const Response post = c.read_response(kIo);
    if (sample.post_status.has_value()) {
        EXPECT_EQ(post.status, *sample.post_status);
    }
    ExpectCommonHeaders(post);
    const Response get = c.read_response(kIo);
    SCOPED_TRACE("if this fails, the request body was parsed as a request");
    ExpectAnswer(get, sample.next);
    EXPECT_EQ(c.pending(), "");
}

// ---------------------------------------------------------------------------------------------
// Limits and bad input. Each test ends by checking that a fresh connection is still served.

class Limits : public SharedSampleServer<Limits> {};

TEST_P(Limits, MalformedRequestLineIs400AndCloses) {
    RawConnection c(port());
    c.send("THIS IS NOT HTTP\r\n\r\n");
    ExpectAnswerThenClose(c, 400);
    ExpectFreshConnectionServed(GetParam(), port());
}

TEST_P(Limits, MalformedHeaderLineIs400AndCloses) {
    RawConnection c(port());
    c.send(RequestLine("GET", GetParam().ok.target) +
           "Host: 127.0.0.1\r\nthis header line has no colon\r\n\r\n");
    ExpectAnswerThenClose(c, 400);
    ExpectFreshConnectionServed(GetParam(), port());
}

TEST_P(Limits, HeaderBlockUnder16KiBIsServed) {
    RawConnection c(port());
    c.send(RequestWithHeaderBlockOf(GetParam().ok.target, 15 * 1024));
    const Response r = c.read_response(kIo);
    ExpectAnswer(r, GetParam().ok);
    ExpectCommonHeaders(r);
}

TEST_P(Limits, HeaderBlockOver16KiBIs431AndCloses) {
    RawConnection c(port());
    c.send(RequestWithHeaderBlockOf(GetParam().ok.target, 17 * 1024));
    ExpectAnswerThenClose(c, 431);
    ExpectFreshConnectionServed(GetParam(), port());
}

TEST_P(Limits, DeclaredBodyOver1MiBIs413AndCloses) {
    RawConnection c(port());
    c.send(RequestLine("POST", GetParam().ok.target) +
           "Host: 127.0.0.1\r\nContent-Length: 2000000\r\n\r\n");
    ExpectAnswerThenClose(c, 413);
    ExpectFreshConnectionServed(GetParam(), port());
}

TEST_P(Limits, ChunkedBodyGrowingOver1MiBIs413AndCloses) {
    RawConnection c(port());
    c.send(RequestLine("POST", GetParam().ok.target) +
           "Host: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n");
    const std::string chunk = "10000\r\n" + std::string(0x10000, 'a') + "\r\n";  // 64 KiB
    // 2 MiB in all. The server may answer and close midway: then sending fails, which is fine.
    bool sending = true;
    for (int i = 0; i < 32 && sending; ++i) sending = c.try_send(chunk);
    if (sending)
        c.try_send("0\r\n\r\n");
    ExpectAnswerThenClose(c, 413);
    ExpectFreshConnectionServed(GetParam(), port());
}

TEST_P(Limits, ContentLengthWithTransferEncodingIs400AndCloses) {
    RawConnection c(port());
    c.send(RequestLine("POST", GetParam().ok.target) +
           "Host: 127.0.0.1\r\nContent-Length: 5\r\n"
           "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
    ExpectAnswerThenClose(c, 400);
    ExpectFreshConnectionServed(GetParam(), port());
}

TEST_P(Limits, NonNumericContentLengthIs400AndCloses) {
    RawConnection c(port());
    c.send(RequestLine("POST", GetParam().ok.target) +
           "Host: 127.0.0.1\r\nContent-Length: abc\r\n\r\n");
    ExpectAnswerThenClose(c, 400);
    ExpectFreshConnectionServed(GetParam(), port());
}

TEST_P(Limits, TransferEncodingOtherThanChunkedIs501AndCloses) {
    RawConnection c(port());
    c.send(RequestLine("POST", GetParam().ok.target) +
           "Host: 127.0.0.1\r\nTransfer-Encoding: gzip\r\n\r\n");
    ExpectAnswerThenClose(c, 501);
    ExpectFreshConnectionServed(GetParam(), port());
}

TEST_P(Limits, BadInputDoesNotDisturbOtherConnections) {
    const SampleTraits& sample = GetParam();
    RawConnection bystander(port());
    bystander.send(make_request("GET", sample.ok.target));
    ExpectAnswer(bystander.read_response(kIo), sample.ok);

    RawConnection attacker(port());
    // The start of a TLS ClientHello (NUL bytes included), then a blank line.
    constexpr char kClientHello[] =
        "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not http at all\r\n\r\n";
    attacker.send(std::string_view(kClientHello, sizeof kClientHello - 1));
    ExpectAnswerThenClose(attacker, 400);

    bystander.send(make_request("GET", sample.ok.target));
    ExpectAnswer(bystander.read_response(kIo), sample.ok);
    ExpectFreshConnectionServed(sample, port());
}

// ---------------------------------------------------------------------------------------------
// Timeouts: slow on purpose (5-13 s each), hence a suite of their own ("Slow" in the name).

class SlowLimits : public SharedSampleServer<SlowLimits> {};

TEST_P(SlowLimits, IdleKeepAliveConnectionIsClosedAfterFiveSeconds) {
    const SampleTraits& sample = GetParam();
    RawConnection c(port());
    c.send(make_request("GET", sample.ok.target));
    ExpectAnswer(c.read_response(kIo), sample.ok);
    const auto idle_since = std::chrono::steady_clock::now();
    EXPECT_TRUE(c.wait_closed(std::chrono::seconds(8)))
        << "an idle keep-alive connection is still open after 8 s";
    const double idle = seconds_since(idle_since);
    EXPECT_GE(idle, 4.0) << "closed after " << idle << " s of idleness, expected about 5 s";
    EXPECT_EQ(c.pending(), "") << "the server sent bytes on an idle connection";
    ExpectFreshConnectionServed(sample, port());
}

TEST_P(SlowLimits, IncompleteHeadersGet408OrCloseWithinTenSeconds) {
    RawConnection c(port());
    const auto first_byte = std::chrono::steady_clock::now();
    // No blank line: the headers never end.
    c.send(RequestLine("GET", GetParam().ok.target) + "Host: 127.0.0.1\r\n");
    EXPECT_TRUE(c.wait_closed(std::chrono::seconds(13)))
        << "incomplete headers kept the connection open for 13 s";
    const double waited = seconds_since(first_byte);
    EXPECT_GE(waited, 8.0) << "closed after " << waited << " s, expected about 10 s";
    ExpectTimeoutAnswerIfAny(c);
    ExpectFreshConnectionServed(GetParam(), port());
}

TEST_P(SlowLimits, TrickledHeadersStillTimeOutTenSecondsAfterFirstByte) {
    using std::chrono::milliseconds;
    RawConnection c(port());
    const auto first_byte = std::chrono::steady_clock::now();
    c.send(RequestLine("GET", GetParam().ok.target));
    // One more header line every second: the connection is never idle, but the header block
    // is not complete within 10 s of its first byte.
    bool closed = false;
    const auto give_up = first_byte + std::chrono::seconds(13);
    for (int i = 0; !closed && std::chrono::steady_clock::now() < give_up; ++i) {
        const auto left =
            std::chrono::duration_cast<milliseconds>(give_up - std::chrono::steady_clock::now());
        closed = c.wait_closed(std::min<milliseconds>(std::chrono::seconds(1), left));
        if (!closed)
            c.try_send("X-Trickle-" + std::to_string(i) + ": x\r\n", std::chrono::seconds(1));
    }
    EXPECT_TRUE(closed) << "trickled headers kept the connection open for 13 s";
    const double waited = seconds_since(first_byte);
    EXPECT_GE(waited, 8.0) << "closed after " << waited << " s, expected about 10 s";
    ExpectTimeoutAnswerIfAny(c);
    ExpectFreshConnectionServed(GetParam(), port());
}

}  // namespace flamecpp::test
