// BroadcastOptions::url: what parse_broadcast_url takes, refuses, and shows in log lines.
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

#include <flamecpp/broadcast.hpp>

#include "server/redis_link.hpp"

namespace flamecpp::detail {
namespace {

TEST(BroadcastUrl, MemoryIsThisProcessOnly) {
    EXPECT_FALSE(parse_broadcast_url("memory://").redis);
    EXPECT_FALSE(parse_broadcast_url("MEMORY://").redis);
}

TEST(BroadcastUrl, RedisHostPortAndDefaults) {
    const BroadcastAddress plain = parse_broadcast_url("redis://127.0.0.1");
    EXPECT_TRUE(plain.redis);
    EXPECT_EQ(plain.host, "127.0.0.1");
    EXPECT_EQ(plain.port, 6379);
    EXPECT_EQ(plain.db, 0u);
    EXPECT_TRUE(plain.password.empty());
    EXPECT_EQ(plain.shown, "redis://127.0.0.1:6379");

    const BroadcastAddress named = parse_broadcast_url("redis://cache.internal:7000/3");
    EXPECT_EQ(named.host, "cache.internal");
    EXPECT_EQ(named.port, 7000);
    EXPECT_EQ(named.db, 3u);
    EXPECT_EQ(named.shown, "redis://cache.internal:7000/3");

    const BroadcastAddress v6 = parse_broadcast_url("redis://[::1]:6380/");
    EXPECT_EQ(v6.host, "::1");
    EXPECT_EQ(v6.port, 6380);
    EXPECT_EQ(v6.shown, "redis://[::1]:6380");
}

TEST(BroadcastUrl, CredentialsAreDecodedAndNeverShown) {
    const BroadcastAddress both = parse_broadcast_url("redis://app:s%40cret@h:1");
    EXPECT_EQ(both.user, "app");
    EXPECT_EQ(both.password, "s@cret");
    EXPECT_EQ(both.shown, "redis://app:***@h:1");

    // A lone password, as Redis clients write it (requirepass, no ACL user).
    const BroadcastAddress password_only = parse_broadcast_url("redis://:pw@h");
    EXPECT_EQ(password_only.user, "");
    EXPECT_EQ(password_only.password, "pw");
    EXPECT_EQ(password_only.shown, "redis://:***@h:6379");

    const BroadcastAddress lone = parse_broadcast_url("redis://pw@h");
    EXPECT_EQ(lone.user, "");
    EXPECT_EQ(lone.password, "pw");
    EXPECT_EQ(lone.shown.find("pw"), std::string::npos) << lone.shown;
}

TEST(BroadcastUrl, WhatIsRefusedSaysWhy) {
    const std::pair<const char*, const char*> cases[] = {
        {"", "not a URL"},
        {"localhost:6379", "unknown scheme"},
        {"rediss://h", "unknown scheme 'rediss'"},
        {"kafka://h", "unknown scheme"},
        {"redis://", "no host"},
        {"redis://h:0", "a bad port"},
        {"redis://h:99999", "a bad port"},
        {"redis://h/x", "database number"},
        {"redis://h/1/2", "database number"},
        {"redis://h/+1", "database number"},
        {"redis://h?db=1", "query"},
        {"memory://x", "nothing after it"},
        {"memory://:1", "nothing after it"},
        {"memory://u@", "nothing after it"},
        {"memory://#f", "nothing after it"},
    };
    for (const auto& [url, why] : cases) {
        try {
            (void)parse_broadcast_url(url);
            ADD_FAILURE() << url << " was taken";
        } catch (const std::invalid_argument& e) {
            const std::string message = e.what();
            EXPECT_NE(message.find(why), std::string::npos) << url << ": " << message;
            EXPECT_NE(message.find(std::string("'") + url + "'"), std::string::npos) << message;
            EXPECT_EQ(message.find('\n'), std::string::npos) << "one line: " << message;
        }
    }
}

TEST(BroadcastUrl, TheHubRefusesABadUrlWhenMade) {
    EXPECT_THROW(Broadcast(BroadcastOptions{.url = "redis://"}), std::invalid_argument);
    EXPECT_THROW(Broadcast::check_url("nope://"), std::invalid_argument);
    EXPECT_NO_THROW(Broadcast::check_url("redis://127.0.0.1:6379"));
    // Nothing connects before a server starts: making a redis:// hub does no I/O.
    EXPECT_NO_THROW(Broadcast(BroadcastOptions{.url = "redis://127.0.0.1:1"}));
}

}  // namespace
}  // namespace flamecpp::detail
