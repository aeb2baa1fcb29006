// Integration tests of the `hello` sample against the samples' contract
// (docs/samples.md): the rules every sample shares (sample_contract_tests.hpp)
// and the `hello` table, checked over real loopback sockets against the real binary.
#include <cstdint>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "contract_checks.hpp"
#include "http_client.hpp"
#include "sample_contract_tests.hpp"

#ifndef FLAMECPP_SAMPLE_HELLO
#error "FLAMECPP_SAMPLE_HELLO must be defined as the path of the hello sample executable"
#endif

namespace flamecpp::test {
namespace {

constexpr Exchange kHelloPipeline[] = {
    {"/", 200, "Hello, world!"},
    {"/alice", 200, "Hello, alice"},
    {"/bob", 200, "Hello, bob"},
};

constexpr Probe kHelloProbes[] = {
    {"GET", "/"}, {"GET", "/someone"}, {"GET", "/caf%C3%A9"}, {"GET", "/a/b"}, {"POST", "/"},
};

constexpr SampleTraits kHello{
    .name = "hello",
    .executable = FLAMECPP_SAMPLE_HELLO,
    .ok = {"/", 200, "Hello, world!"},
    .next = {"/second", 200, "Hello, second"},
    .pipeline = kHelloPipeline,
    .probes = kHelloProbes,
    .post_status = 405,  // "POST /: 405, Allow: GET, HEAD"
};

INSTANTIATE_TEST_SUITE_P(HelloContract, CommandLine, ::testing::Values(kHello));
INSTANTIATE_TEST_SUITE_P(HelloContract, Lifecycle, ::testing::Values(kHello));
INSTANTIATE_TEST_SUITE_P(HelloContract, Http, ::testing::Values(kHello));
INSTANTIATE_TEST_SUITE_P(HelloContract, Limits, ::testing::Values(kHello));
INSTANTIATE_TEST_SUITE_P(HelloContract, SlowLimits, ::testing::Values(kHello));

// ---------------------------------------------------------------------------------------------
// The `hello` table.

class HelloContract : public SampleServer<HelloContract> {
protected:
    void SetUp() override { UseSample(kHello); }
};

TEST_F(HelloContract, RootSaysHelloWorldAsUtf8PlainText) {
    const Response r = http_get(port(), "/", kIo);
    ExpectAnswer(r, kHello.ok);
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
    ExpectAnswer(get, kHello.ok);
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

}  // namespace
}  // namespace flamecpp::test
