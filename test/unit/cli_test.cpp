#include "app/cli.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <sched.h>

namespace flamecpp::detail {
namespace {

CommandLine parse(std::vector<std::string> args, ServerOptions defaults = {}) {
    args.insert(args.begin(), "app");
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    return parse_command_line(static_cast<int>(argv.size()), argv.data(), defaults);
}

TEST(CommandLine, Defaults) {
    auto cl = parse({});
    EXPECT_TRUE(cl.error.empty()) << cl.error;
    EXPECT_EQ(cl.options.host, "127.0.0.1");
    EXPECT_EQ(cl.options.port, 8000);
    EXPECT_GE(cl.options.threads, 1u);
    EXPECT_EQ(cl.options.log_level, LogLevel::info);
}

// The default thread count follows the CPUs the process may use (taskset, cpusets), not the
// machine's: two event loops on one allowed CPU take turns in scheduler slices.
TEST(CommandLine, DefaultThreadsFollowTheAffinityMask) {
    cpu_set_t saved;
    ASSERT_EQ(sched_getaffinity(0, sizeof(saved), &saved), 0);
    int first = 0;
    while (!CPU_ISSET(first, &saved)) ++first;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(first, &one);
    ASSERT_EQ(sched_setaffinity(0, sizeof(one), &one), 0);
    const auto pinned = parse({});
    ASSERT_EQ(sched_setaffinity(0, sizeof(saved), &saved), 0);
    EXPECT_EQ(pinned.options.threads, 1u);
    EXPECT_EQ(parse({}).options.threads, static_cast<unsigned>(CPU_COUNT(&saved)));
}

TEST(CommandLine, ReadsEveryFlag) {
    auto cl = parse({"--host", "0.0.0.0", "--port", "0", "--threads", "3", "--log-level", "off"});
    EXPECT_TRUE(cl.error.empty()) << cl.error;
    EXPECT_EQ(cl.options.host, "0.0.0.0");
    EXPECT_EQ(cl.options.port, 0);
    EXPECT_EQ(cl.options.threads, 3u);
    EXPECT_EQ(cl.options.log_level, LogLevel::off);
}

TEST(CommandLine, AppDefaultsApply) {
    ServerOptions d;
    d.log_level = LogLevel::warn;
    EXPECT_EQ(parse({}, d).options.log_level, LogLevel::warn);
}

TEST(CommandLine, BadValuesAreErrors) {
    EXPECT_FALSE(parse({"--port", "abc"}).error.empty());
    EXPECT_FALSE(parse({"--port", "70000"}).error.empty());
    EXPECT_FALSE(parse({"--threads", "1025"}).error.empty());
    EXPECT_FALSE(parse({"--log-level", "loud"}).error.empty());
    EXPECT_FALSE(parse({"--bogus"}).error.empty());
    EXPECT_FALSE(parse({"--port"}).error.empty());
}

TEST(CommandLine, ThreadsZeroMeansOnePerUsableCpu) {
    const auto zero = parse({"--threads", "0"});
    EXPECT_TRUE(zero.error.empty()) << zero.error;
    EXPECT_EQ(zero.options.threads, parse({}).options.threads);
}

TEST(CommandLine, AStrayWordIsAnErrorNamingIt) {
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"stray"}, {"--port", "0", "stray"}, {"stray", "--port", "0"}, {"--port", "0", "1"}}) {
        const auto cl = parse(args);
        EXPECT_NE(cl.error.find("unexpected argument"), std::string::npos) << cl.error;
        EXPECT_EQ(cl.error.find('\n'), std::string::npos);
    }
    EXPECT_NE(parse({"--port", "0", "stray"}).error.find("'stray'"), std::string::npos);
}

TEST(CommandLine, ErrorIsOneLine) {
    auto cl = parse({"--bogus"});
    EXPECT_EQ(cl.error.find('\n'), std::string::npos);
    EXPECT_NE(cl.usage.find("--log-level"), std::string::npos);
}

TEST(CommandLine, Help) { EXPECT_TRUE(parse({"--help"}).help); }

}  // namespace
}  // namespace flamecpp::detail
