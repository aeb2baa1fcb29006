// The parts of the built-in middleware that need no server, and the random values they use.
#include <set>
#include <string>

#include <gtest/gtest.h>

#include <flamecpp/builtin_middleware.hpp>
#include <flamecpp/security.hpp>

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
