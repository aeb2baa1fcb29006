#include "app/cli.hpp"

#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <sched.h>

#include "app/app_impl.hpp"

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

// --- The app's own flags ------------------------------------------------------------------

struct SiteFlags {
    App app;
    Flag<std::string> secret = app.flag<std::string>("secret", "signs cookies", "", "KEY");
    Flag<std::vector<std::string>> hosts =
        app.flag<std::vector<std::string>>("allowed-host", "a Host to accept", {}, "HOST");
    Flag<bool> fail = app.flag<bool>("fail-startup", "fail on purpose");
    Flag<long long> workers = app.flag<long long>("jobs", "job workers", 4);
    Flag<double> ratio = app.flag<double>("ratio", "a ratio", 0.5);

    CommandLine parse(std::vector<std::string> args, const std::string& env_prefix = {}) {
        args.insert(args.begin(), "site");
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        return parse_command_line(static_cast<int>(argv.size()), argv.data(), ServerOptions{},
                                  app.impl().flags, env_prefix);
    }
};

TEST(AppFlags, DefaultsThenValuesFromTheCommandLine) {
    SiteFlags site;
    auto none = site.parse({});
    ASSERT_TRUE(none.error.empty()) << none.error;
    EXPECT_EQ(*site.secret, "");
    EXPECT_FALSE(site.secret.given());
    EXPECT_TRUE(site.hosts->empty());
    EXPECT_FALSE(*site.fail);
    EXPECT_EQ(*site.workers, 4);

    auto given =
        site.parse({"--secret", "k", "--allowed-host", "a.example", "--allowed-host", "b.example",
                    "--fail-startup", "--jobs", "8", "--ratio", "0.25", "--port", "0"});
    ASSERT_TRUE(given.error.empty()) << given.error;
    EXPECT_EQ(*site.secret, "k");
    EXPECT_TRUE(site.secret.given());
    EXPECT_EQ(*site.hosts, (std::vector<std::string>{"a.example", "b.example"}));
    EXPECT_TRUE(*site.fail);
    EXPECT_EQ(*site.workers, 8);
    EXPECT_DOUBLE_EQ(*site.ratio, 0.25);
    EXPECT_EQ(given.options.port, 0);
}

TEST(AppFlags, BadValuesAndUnknownFlagsAreErrors) {
    SiteFlags site;
    EXPECT_NE(site.parse({"--jobs", "many"}).error.find("--jobs"), std::string::npos);
    EXPECT_NE(site.parse({"--ratio", "x"}).error.find("--ratio"), std::string::npos);
    EXPECT_FALSE(site.parse({"--secret"}).error.empty());  // the value is missing
    EXPECT_FALSE(site.parse({"--nope"}).error.empty());
}

TEST(AppFlags, TheHelpShowsThem) {
    SiteFlags site;
    const std::string usage = site.parse({"--help"}).usage;
    EXPECT_NE(usage.find("--secret KEY"), std::string::npos) << usage;
    EXPECT_NE(usage.find("--allowed-host HOST"), std::string::npos) << usage;
    EXPECT_NE(usage.find("--fail-startup"), std::string::npos) << usage;
    EXPECT_NE(usage.find("signs cookies"), std::string::npos) << usage;
}

TEST(AppFlags, TheEnvironmentStandsInForFlagsNotGiven) {
    SiteFlags site;
    ::setenv("SITETEST_SECRET", "from-env", 1);
    ::setenv("SITETEST_JOBS", "16", 1);
    ::setenv("SITETEST_PORT", "9001", 1);
    ::setenv("SITETEST_FAIL_STARTUP", "true", 1);
    auto cl = site.parse({"--jobs", "2"}, "SITETEST_");
    ::unsetenv("SITETEST_SECRET");
    ::unsetenv("SITETEST_JOBS");
    ::unsetenv("SITETEST_PORT");
    ::unsetenv("SITETEST_FAIL_STARTUP");
    ASSERT_TRUE(cl.error.empty()) << cl.error;
    EXPECT_EQ(*site.secret, "from-env");
    EXPECT_TRUE(site.secret.given());
    EXPECT_EQ(*site.workers, 2);  // the command line wins
    EXPECT_EQ(cl.options.port, 9001);
    EXPECT_TRUE(*site.fail);

    ::setenv("SITETEST_ALLOWED_HOST", "a.example, b.example", 1);
    auto listed = site.parse({}, "SITETEST_");
    EXPECT_EQ(*site.hosts, (std::vector<std::string>{"a.example", "b.example"}));
    EXPECT_TRUE(site.hosts.given());
    auto command_line_wins = site.parse({"--allowed-host", "c.example"}, "SITETEST_");
    ::unsetenv("SITETEST_ALLOWED_HOST");
    EXPECT_TRUE(listed.error.empty()) << listed.error;
    EXPECT_TRUE(command_line_wins.error.empty()) << command_line_wins.error;
    EXPECT_EQ(*site.hosts, std::vector<std::string>{"c.example"});

    ::setenv("SITETEST_JOBS", "lots", 1);
    auto bad = site.parse({}, "SITETEST_");
    ::unsetenv("SITETEST_JOBS");
    EXPECT_NE(bad.error.find("jobs"), std::string::npos) << bad.error;
}

TEST(AppFlags, NamesAreCheckedWhenDeclared) {
    App app;
    EXPECT_THROW(app.flag<std::string>("port", "taken by the framework"), std::invalid_argument);
    EXPECT_THROW(app.flag<std::string>("Bad_Name", "not lower-case"), std::invalid_argument);
    EXPECT_THROW(app.flag<std::string>("", "empty"), std::invalid_argument);
    app.flag<std::string>("static", "a folder");
    EXPECT_THROW(app.flag<std::string>("static", "twice"), std::invalid_argument);
}

TEST(AppFlags, ACheckRefusingTheValueIsAFlagError) {
    App app;
    Flag<std::string> url = app.flag<std::string>(
        "broadcast", "where rooms live", "memory://", "URL", [](const std::string& value) {
            if (!value.starts_with("memory://") && !value.starts_with("redis://")) {
                throw std::invalid_argument("not a broadcast URL");
            }
        });
    auto parse_with = [&app](std::vector<std::string> args) {
        args.insert(args.begin(), "room");
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        return parse_command_line(static_cast<int>(argv.size()), argv.data(), ServerOptions{},
                                  app.impl().flags);
    };
    EXPECT_TRUE(parse_with({}).error.empty()) << "the default is checked too, and passes";
    auto good = parse_with({"--broadcast", "redis://127.0.0.1:6379"});
    EXPECT_TRUE(good.error.empty()) << good.error;
    EXPECT_EQ(*url, "redis://127.0.0.1:6379");
    auto bad = parse_with({"--broadcast", "kafka://x"});
    EXPECT_NE(bad.error.find("--broadcast"), std::string::npos) << bad.error;
    EXPECT_NE(bad.error.find("not a broadcast URL"), std::string::npos) << bad.error;
}

}  // namespace
}  // namespace flamecpp::detail
