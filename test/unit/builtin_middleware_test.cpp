// The parts of the built-in middleware that need no server, the Response helpers they use, and
// the random values.
#include <set>
#include <string>

#include <gtest/gtest.h>
#include <zlib.h>

#include <flamecpp/builtin_middleware.hpp>
#include <flamecpp/security.hpp>

#include "text/ascii.hpp"

namespace flamecpp {
namespace {

TEST(RequestID, TakesWellFormedIdsOnly) {
    EXPECT_TRUE(RequestID::acceptable("a"));
    EXPECT_TRUE(RequestID::acceptable("req-42_A.b"));
    EXPECT_TRUE(RequestID::acceptable(std::string(64, 'x')));
    EXPECT_FALSE(RequestID::acceptable(""));
    EXPECT_FALSE(RequestID::acceptable(std::string(65, 'x')));
    EXPECT_FALSE(RequestID::acceptable("has space"));
    EXPECT_FALSE(RequestID::acceptable("semi;colon"));
    EXPECT_FALSE(RequestID::acceptable("new\nline"));
    EXPECT_FALSE(RequestID::acceptable("caf\xc3\xa9"));
}

TEST(TrustedHost, ExactWildcardAndAny) {
    TrustedHost trusted({"Example.com", "*.example.org", "127.0.0.1", "[::1]"});
    EXPECT_TRUE(trusted.allows("example.com"));
    EXPECT_TRUE(trusted.allows("EXAMPLE.COM:8000"));
    EXPECT_TRUE(trusted.allows("api.example.org"));
    EXPECT_TRUE(trusted.allows("a.b.example.org:443"));
    EXPECT_FALSE(trusted.allows("example.org"));  // the wildcard is for subdomains only
    EXPECT_FALSE(trusted.allows("evilexample.org"));
    EXPECT_FALSE(trusted.allows("example.com.evil.net"));
    EXPECT_TRUE(trusted.allows("127.0.0.1:8000"));
    EXPECT_TRUE(trusted.allows("[::1]:8000"));
    EXPECT_FALSE(trusted.allows("[::2]:8000"));
    EXPECT_FALSE(trusted.allows(""));
    EXPECT_FALSE(trusted.allows(":8000"));
    EXPECT_TRUE(TrustedHost({"*"}).allows("anything:1"));
    // Not hosts at all, whatever name they start with.
    EXPECT_FALSE(trusted.allows("example.com:@evil.com"));
    EXPECT_FALSE(trusted.allows("example.com:80/path"));
    EXPECT_FALSE(trusted.allows("example.com:8x"));
    EXPECT_FALSE(trusted.allows("example.com evil"));
    EXPECT_FALSE(trusted.allows("[::1]x"));
}

TEST(GZip, AcceptEncodingWithQValues) {
    EXPECT_TRUE(GZip::accepts_gzip("gzip"));
    EXPECT_TRUE(GZip::accepts_gzip("deflate, GZIP"));
    EXPECT_TRUE(GZip::accepts_gzip("br;q=1.0, gzip;q=0.001"));
    EXPECT_TRUE(GZip::accepts_gzip("*"));
    EXPECT_TRUE(GZip::accepts_gzip("x-gzip"));
    EXPECT_TRUE(GZip::accepts_gzip("gzip ; q=0.5"));
    EXPECT_FALSE(GZip::accepts_gzip(""));
    EXPECT_FALSE(GZip::accepts_gzip("identity"));
    EXPECT_FALSE(GZip::accepts_gzip("gzip;q=0"));
    EXPECT_FALSE(GZip::accepts_gzip("gzip;q=0.000"));
    EXPECT_FALSE(GZip::accepts_gzip("gzip;q=0, *;q=1"));  // the explicit refusal wins
    EXPECT_FALSE(GZip::accepts_gzip("*;q=0"));
    EXPECT_FALSE(GZip::accepts_gzip("gzip;q=bad"));
    EXPECT_FALSE(GZip::accepts_gzip("gzipx"));
}

TEST(GZip, CompressibleTypes) {
    for (const char* type :
         {"text/plain; charset=utf-8", "text/html", "TEXT/CSS", "application/json",
          "text/javascript", "application/javascript", "image/svg+xml", "application/xml",
          "application/problem+json", "application/atom+xml"}) {
        EXPECT_TRUE(GZip::compressible(type)) << type;
    }
    for (const char* type : {"", "image/png", "application/octet-stream", "text/event-stream",
                             "application/zip", "font/woff2", "text/"}) {
        EXPECT_FALSE(GZip::compressible(type)) << type;
    }
}

TEST(GZip, CompressesToAGzipMember) {
    const std::string body(10000, 'z');
    const std::string packed = GZip::compress(body, 9);
    ASSERT_GE(packed.size(), 18u);
    EXPECT_EQ(static_cast<unsigned char>(packed[0]), 0x1f);  // RFC 1952 magic
    EXPECT_EQ(static_cast<unsigned char>(packed[1]), 0x8b);
    EXPECT_LT(packed.size(), 100u);
    std::string out(body.size() + 1, '\0');
    z_stream z{};
    ASSERT_EQ(inflateInit2(&z, 15 + 16), Z_OK);
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(packed.data()));
    z.avail_in = static_cast<uInt>(packed.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    EXPECT_EQ(inflate(&z, Z_FINISH), Z_STREAM_END);
    out.resize(z.total_out);
    inflateEnd(&z);
    EXPECT_EQ(out, body);
    EXPECT_EQ(GZip::compress("").size(), 20u);  // header and trailer around an empty block
    EXPECT_THROW(GZip({.level = 0}), std::invalid_argument);
}

TEST(ProxyHeaders, TrustsAddressesAndNetworks) {
    ProxyHeaders proxies({"127.0.0.1", "10.0.0.0/8", "fd00::/8", "::1"});
    EXPECT_TRUE(proxies.trusts("127.0.0.1"));
    EXPECT_FALSE(proxies.trusts("127.0.0.2"));
    EXPECT_TRUE(proxies.trusts("10.200.3.4"));
    EXPECT_FALSE(proxies.trusts("11.0.0.1"));
    EXPECT_TRUE(proxies.trusts("fd12::1"));
    EXPECT_TRUE(proxies.trusts("[::1]"));
    EXPECT_TRUE(proxies.trusts("::ffff:127.0.0.1"));  // IPv4-mapped
    EXPECT_FALSE(proxies.trusts("fe80::1"));
    EXPECT_FALSE(proxies.trusts("not an address"));
    EXPECT_FALSE(proxies.trusts(""));
    EXPECT_TRUE(ProxyHeaders({"*"}).trusts("192.0.2.1"));
    EXPECT_THROW(ProxyHeaders({"10.0.0.0/33"}), std::invalid_argument);
    EXPECT_THROW(ProxyHeaders({"localhost"}), std::invalid_argument);
}

TEST(Response, SetHeaderRemoveHeaderAndVary) {
    Response r = Response::text("x").with_header("X-A", "1").with_header("x-a", "2");
    r.set_header("X-A", "3");
    EXPECT_EQ(r.header("x-a"), "3");
    EXPECT_EQ(r.headers().size(), 1u);
    EXPECT_EQ(r.remove_header("X-A"), 1u);
    EXPECT_TRUE(r.headers().empty());
    r.vary("Origin");
    r.vary("origin");
    r.vary("Accept-Encoding");
    EXPECT_EQ(r.header("Vary"), "Origin, Accept-Encoding");
    Response lines =
        Response::text("z").with_header("Vary", "Cookie").with_header("vary", "Authorization");
    lines.vary("Origin");
    EXPECT_EQ(lines.header("Vary"), "Cookie, Authorization, Origin");
    EXPECT_EQ(lines.headers().size(), 1u);
    lines.vary("authorization");
    EXPECT_EQ(lines.header("Vary"), "Cookie, Authorization, Origin");
    Response star = Response::text("y").with_header("Vary", "*");
    star.vary("Origin");
    EXPECT_EQ(star.header("Vary"), "*");
}

TEST(Security, BasicAuthDecodesUserAndPassword) {
    auto admin = basic_auth("Basic YWRtaW46c2VjcmV0");  // admin:secret
    ASSERT_TRUE(admin);
    EXPECT_EQ(admin->user, "admin");
    EXPECT_EQ(admin->password, "secret");
    auto colon = basic_auth("basic  dTpwOnE=");  // u:p:q, the password keeps its ':'
    ASSERT_TRUE(colon);
    EXPECT_EQ(colon->password, "p:q");
    EXPECT_FALSE(basic_auth(""));
    EXPECT_FALSE(basic_auth("Bearer YWRtaW46c2VjcmV0"));
    EXPECT_FALSE(basic_auth("Basic"));
    EXPECT_FALSE(basic_auth("Basic !!!!"));
    EXPECT_FALSE(basic_auth("Basic YWRtaW4="));       // no ':'
    EXPECT_FALSE(basic_auth("Basic YWRt aW46c2Vj"));  // white space inside
    EXPECT_FALSE(basic_auth("Basic YQ=a"));
}

TEST(Security, ValidHost) {
    for (const char* host :
         {"example.com", "a-b.example.com:8080", "127.0.0.1", "[::1]:443", "under_score", "x:1"}) {
        EXPECT_TRUE(detail::valid_host(host)) << host;
    }
    for (const char* host : {"", ":80", "example.com:", "example.com:@evil.com", "a b",
                             "example.com/x", "[::1", "[]", "[::g]", "host:123456", "é.com"}) {
        EXPECT_FALSE(detail::valid_host(host)) << host;
    }
}

TEST(Security, ConstantTimeEquals) {
    EXPECT_TRUE(constant_time_equals("secret", "secret"));
    EXPECT_FALSE(constant_time_equals("secret", "secreT"));
    EXPECT_FALSE(constant_time_equals("secret", "secret2"));
    EXPECT_TRUE(constant_time_equals("", ""));
}

TEST(Security, RandomUuidIsVersion4) {
    std::set<std::string> seen;
    for (int i = 0; i < 100; ++i) {
        std::string id = random_uuid();
        ASSERT_EQ(id.size(), 36u) << id;
        EXPECT_EQ(id[8], '-');
        EXPECT_EQ(id[13], '-');
        EXPECT_EQ(id[18], '-');
        EXPECT_EQ(id[23], '-');
        EXPECT_EQ(id[14], '4') << id;                                    // version
        EXPECT_NE(std::string("89ab").find(id[19]), std::string::npos);  // variant
        seen.insert(id);
    }
    EXPECT_EQ(seen.size(), 100u);
}

TEST(Security, RandomHexHasTwoDigitsPerByte) {
    EXPECT_EQ(random_hex(0), "");
    std::string token = random_hex(16);
    EXPECT_EQ(token.size(), 32u);
    EXPECT_EQ(token.find_first_not_of("0123456789abcdef"), std::string::npos);
    EXPECT_NE(random_hex(16), token);
}

}  // namespace
}  // namespace flamecpp
