// Checks shared by the samples' contract tests (docs/samples.md): what every
// answer carries, how a sample answers bad input and bad command lines, and a fixture that runs
// one sample per test suite. A sample binary describes itself to the shared tests with a
// SampleTraits (see test/integration/sample_contract_tests.hpp).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "http_client.hpp"
#include "process.hpp"

namespace flamecpp::test {

inline constexpr std::chrono::seconds kIo{5};  // any single answer
// Closing after an answer; less than the 5 s idle timeout.
inline constexpr std::chrono::seconds kCloseWait{3};
// A process that must exit on its own (bad command line).
inline constexpr std::chrono::seconds kExitWait{10};

// A GET of `target` and the answer the sample's table gives it: `status`, and exactly `body`
// unless the contract leaves the body open (nullopt).
struct Exchange {
    std::string_view target;
    int status;
    std::optional<std::string_view> body;
};

// A request whose answer is checked only for what every answer carries.
struct Probe {
    std::string_view method;
    std::string_view target;
};

// What the tests every sample shares need to know about one sample binary.
struct SampleTraits {
    std::string_view name;   // printed as the test parameter ("hello")
    const char* executable;  // path of the sample binary
    // A GET answered 200 with a fixed body: the request of "a fresh connection is still served".
    Exchange ok;
    // Another GET answered 200, with a body that differs from ok's.
    Exchange next;
    // GETs sent pipelined on one connection: the answers must come back in this order.
    std::span<const Exchange> pipeline;
    // Requests across the sample's table, checked for common headers and exact framing.
    std::span<const Probe> probes;
    // The answer to a POST on ok.target, if the sample's table fixes it.
    std::optional<int> post_status;
    // The Content-Type of the 404 for an unknown path (`site` answers with an HTML page).
    std::string_view not_found_type = "text/plain";
};

// Names the sample in test names ("HelloContract/Limits.X/0  # GetParam() = hello").
void PrintTo(const SampleTraits& sample, std::ostream* os);

std::string lowercase(std::string_view s);
bool contains_ci(std::string_view haystack, std::string_view needle);
bool starts_with_ci(std::string_view s, std::string_view prefix);
double seconds_since(std::chrono::steady_clock::time_point start);

// "GET /x HTTP/1.1\r\n": the start of a hand-written request.
std::string RequestLine(std::string_view method, std::string_view target);

// A GET of `target` whose header block (request line to the final CRLF included) has about
// `total_bytes` bytes, made of 100-byte filler lines.
std::string RequestWithHeaderBlockOf(std::string_view target, std::size_t total_bytes);

// "Every response carries Server and Date headers and a correct Content-Length (or chunked
// encoding for streamed bodies)." Date must be an IMF-fixdate close to now.
void ExpectCommonHeaders(const Response& r, bool head_request = false);

// The answer is the one `expected` describes.
void ExpectAnswer(const Response& r, const Exchange& expected);

// "After each hostile input, a fresh connection is still served."
void ExpectFreshConnectionServed(const SampleTraits& sample, std::uint16_t port);

// Reads the answer to a bad request, checks its status, and that the server then closes.
void ExpectAnswerThenClose(RawConnection& c, int status);

// After a header timeout the server either answers 408 before closing or just closes; whatever
// it sent is checked.
void ExpectTimeoutAnswerIfAny(RawConnection& c);

// "A bad flag or value prints a one-line error and usage to stderr and exits 2."
void ExpectUsageError(const RunResult& r);

// One running sample per test suite (`Suite` only makes the static members distinct per suite).
// The fixture's SetUp() calls UseSample(): the sample starts for the suite's first test. A test
// that kills the server is reported by TearDown and the server is restarted for the next test.
template <typename Suite>
class SampleServer : public ::testing::Test {
protected:
    static void TearDownTestSuite() {
        if (server_)
            server_->stop();
        server_.reset();
        started_ = false;
    }

    void UseSample(const SampleTraits& sample) {
        if (!started_ || (server_ && !server_->running()))
            Launch(sample.executable);
        if (!server_)
            GTEST_FAIL() << "could not start the sample: " << launch_error_;
    }

    void TearDown() override {
        // A failed test may have crashed the server: give a dying process a moment to be seen.
        if (server_ && (HasFailure() ? server_->wait_for_exit(std::chrono::seconds(1))
                                     : !server_->running())) {
            ADD_FAILURE() << "the sample died during this test (exit code "
                          << server_->exit_code().value_or(-1) << ")";
        }
    }

    static std::uint16_t port() { return server_->port(); }

private:
    static void Launch(const char* executable) {
        started_ = true;
        server_.reset();
        try {
            server_ = std::make_unique<SampleProcess>(SampleProcess::start(executable));
            launch_error_.clear();
        } catch (const std::exception& e) {
            launch_error_ = e.what();
        }
    }

    static inline std::unique_ptr<SampleProcess> server_;
    static inline std::string launch_error_;
    static inline bool started_ = false;
};

// A SampleServer for the suites every sample shares: the sample is the test parameter.
template <typename Suite>
class SharedSampleServer : public SampleServer<Suite>,
                           public ::testing::WithParamInterface<SampleTraits> {
protected:
    void SetUp() override { this->UseSample(GetParam()); }
};

}  // namespace flamecpp::test
