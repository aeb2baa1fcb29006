#include "contract_checks.hpp"

#include <cmath>
#include <ctime>

namespace flamecpp::test {
namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

}  // namespace

void PrintTo(const SampleTraits& sample, std::ostream* os) { *os << sample.name; }

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

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::string RequestLine(std::string_view method, std::string_view target) {
    return std::string(method) + " " + std::string(target) + " HTTP/1.1\r\n";
}

std::string RequestWithHeaderBlockOf(std::string_view target, std::size_t total_bytes) {
    std::string request = RequestLine("GET", target) + "Host: 127.0.0.1\r\n";
    for (int i = 0; request.size() + 2 < total_bytes; ++i) {
        std::string line = "X-Fill-" + std::to_string(i) + ": ";
        line.append(100 - 2 - line.size(), 'a');
        request += line + "\r\n";
    }
    return request + "\r\n";
}

void ExpectCommonHeaders(const Response& r, bool head_request) {
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
    if (r.status < 200 || r.status == 204 || r.status == 304) {
        // RFC 9110 8.6: these carry no Content-Length (the contract says so too).
        EXPECT_EQ(r.header_count("Content-Length"), 0u)
            << "status " << r.status << ": must not carry Content-Length";
        EXPECT_EQ(r.body, "");
        return;
    }
    ASSERT_EQ(r.header_count("Content-Length"), 1u)
        << "status " << r.status << ": expected exactly one Content-Length header";
    if (!head_request) {
        EXPECT_EQ(r.header("Content-Length").value_or(""), std::to_string(r.body.size()));
    }
}

void ExpectAnswer(const Response& r, const Exchange& expected) {
    EXPECT_EQ(r.status, expected.status) << "GET " << expected.target;
    if (expected.body.has_value()) {
        EXPECT_EQ(r.body, *expected.body) << "GET " << expected.target;
    }
}

void ExpectFreshConnectionServed(const SampleTraits& sample, std::uint16_t port) {
    const Response r = http_get(port, std::string(sample.ok.target), kIo);
    ExpectAnswer(r, sample.ok);
}

void ExpectAnswerThenClose(RawConnection& c, int status) {
    const Response r = c.read_response(kIo);
    EXPECT_EQ(r.status, status) << "body: " << r.body;
    ExpectCommonHeaders(r);
    EXPECT_TRUE(c.wait_closed(kCloseWait))
        << "the server kept the connection open after answering " << status;
    EXPECT_EQ(c.pending(), "") << "unexpected bytes after the " << status << " answer";
}

void ExpectTimeoutAnswerIfAny(RawConnection& c) {
    if (c.pending().empty())
        return;
    const Response r = c.read_response(kIo);
    EXPECT_EQ(r.status, 408);
    ExpectCommonHeaders(r);
}

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

}  // namespace flamecpp::test
