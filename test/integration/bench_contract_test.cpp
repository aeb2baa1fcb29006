// Integration tests of the `bench` sample against the samples' contract
// (docs/samples.md): the rules every sample shares (sample_contract_tests.hpp)
// and the `bench` table, checked over real loopback sockets against the real binary.
#include <optional>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "contract_checks.hpp"
#include "http_client.hpp"
#include "sample_contract_tests.hpp"
#include "ws_client.hpp"

#ifndef FLAMECPP_SAMPLE_BENCH
#error "FLAMECPP_SAMPLE_BENCH must be defined as the path of the bench sample executable"
#endif

namespace flamecpp::test {
namespace {

constexpr std::string_view kJsonBody = R"({"message":"Hello, World!"})";

constexpr Exchange kBenchPipeline[] = {
    {"/plaintext", 200, "Hello, World!"},
    {"/json", 200, kJsonBody},
    {"/no/such/path", 404, std::nullopt},
};

constexpr Probe kBenchProbes[] = {
    {"GET", "/plaintext"},
    {"GET", "/json"},
    {"GET", "/no/such/path"},
    {"POST", "/plaintext"},
};

constexpr SampleTraits kBench{
    .name = "bench",
    .executable = FLAMECPP_SAMPLE_BENCH,
    .ok = {"/plaintext", 200, "Hello, World!"},
    .next = {"/json", 200, kJsonBody},
    .pipeline = kBenchPipeline,
    .probes = kBenchProbes,
    .post_status = std::nullopt,  // bench has no POST route: the table fixes no answer
};

INSTANTIATE_TEST_SUITE_P(BenchContract, CommandLine, ::testing::Values(kBench));
INSTANTIATE_TEST_SUITE_P(BenchContract, Lifecycle, ::testing::Values(kBench));
INSTANTIATE_TEST_SUITE_P(BenchContract, Http, ::testing::Values(kBench));
INSTANTIATE_TEST_SUITE_P(BenchContract, Limits, ::testing::Values(kBench));
INSTANTIATE_TEST_SUITE_P(BenchContract, SlowLimits, ::testing::Values(kBench));

// ---------------------------------------------------------------------------------------------
// The `bench` table.

class BenchContract : public SampleServer<BenchContract> {
protected:
    void SetUp() override { UseSample(kBench); }
};

TEST_F(BenchContract, PlaintextSaysHelloWorldAsPlainText) {
    const Response r = http_get(port(), "/plaintext", kIo);
    ExpectAnswer(r, kBench.ok);
    EXPECT_TRUE(starts_with_ci(r.header("Content-Type").value_or(""), "text/plain"))
        << "Content-Type: " << r.header("Content-Type").value_or("<none>");
    ExpectCommonHeaders(r);
}

TEST_F(BenchContract, JsonSaysHelloWorldMessage) {
    const Response r = http_get(port(), "/json", kIo);
    EXPECT_EQ(r.status, 200);
    EXPECT_TRUE(starts_with_ci(r.header("Content-Type").value_or(""), "application/json"))
        << "Content-Type: " << r.header("Content-Type").value_or("<none>");
    EXPECT_EQ(r.body, kJsonBody);
    ExpectCommonHeaders(r);
}

TEST_F(BenchContract, WebSocketEchoesEachMessageWithTheSameFrameType) {
    WsClient c;
    c.connect(port(), "/ws");
    c.send_text("Hello, World!");
    EXPECT_EQ(c.receive(), ws_text("Hello, World!"));
    c.send_binary(std::string("\x00\x01\xfe\xff", 4));
    EXPECT_EQ(c.receive(), ws_binary(std::string("\x00\x01\xfe\xff", 4)));
    c.send_text("");
    EXPECT_EQ(c.receive(), ws_text(""));
    const std::string large(256 * 1024, 'z');  // several frames' worth
    c.send_binary(large);
    EXPECT_EQ(c.receive(), ws_binary(large));
    for (int i = 0; i < 20; ++i) c.send_text(std::to_string(i));  // in flight together
    for (int i = 0; i < 20; ++i) EXPECT_EQ(c.receive(), ws_text(std::to_string(i)));
    EXPECT_EQ(c.close(1000).code, 1000);
}

}  // namespace
}  // namespace flamecpp::test
