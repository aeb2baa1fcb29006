// The scenario end to end, on a real process (test/apps/broadcast_app.cpp): a /live
// client that stops reading, 8 broadcasts of 4 MiB blocked on it, the client leaving, then SIGINT.
// Every send resumes within 1 s of the disconnect, and the process exits 0 within its grace
// period (3 s), whether the sends were awaited by the request, spawned detached, spawned with
// flamecpp::spawn, or queued.
#include <chrono>
#include <future>
#include <optional>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <gtest/gtest.h>

#include "http_client.hpp"
#include "process.hpp"
#include "ws_client.hpp"

namespace flamecpp::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr int kBroadcasts = 8;
// 8 x 4 MiB: far more than loopback's socket buffers take (up to about 10 MiB once the
// kernel has grown them), so most sends wait. (8 x 1 MiB let 5 of 8 through once in CI.)
constexpr int kSize = 4 * 1024 * 1024;
// The app's grace period (3 s) and one second of margin for sanitizer builds.
constexpr auto kExitBound = 4s;

struct Stats {
    int started = 0;
    int ok = 0;
    int gone = 0;
    int clients = 0;
};

Stats GetStats(std::uint16_t port) {
    const Response r = http_get(port, "/stats");
    const boost::json::value v = boost::json::parse(r.body);
    return {static_cast<int>(v.at("started").as_int64()), static_cast<int>(v.at("ok").as_int64()),
            static_cast<int>(v.at("gone").as_int64()),
            static_cast<int>(v.at("clients").as_int64())};
}

// Waits until all `expected` sends have ended; returns the last stats seen.
Stats WaitForSendsToEnd(std::uint16_t port, int expected, std::chrono::milliseconds bound) {
    const auto deadline = Clock::now() + bound;
    Stats s = GetStats(port);
    while (s.ok + s.gone < expected && Clock::now() < deadline) {
        std::this_thread::sleep_for(20ms);
        s = GetStats(port);
    }
    return s;
}

// One POST /broadcast on its own connection; the future is ready when it is answered.
std::future<int> Broadcast(std::uint16_t port, const std::string& mode) {
    return std::async(std::launch::async, [port, mode] {
        RawConnection c(port);
        c.send(make_request("POST", "/broadcast?mode=" + mode + "&size=" + std::to_string(kSize)));
        return c.read_response(20s).status;
    });
}

struct Param {
    std::string mode;
    std::string threads;
    friend void PrintTo(const Param& p, std::ostream* os) {
        *os << p.mode << " on " << p.threads << " thread(s)";
    }
};

class BroadcastProcess : public ::testing::TestWithParam<Param> {
protected:
    SampleProcess Start() {
        return SampleProcess::start(FLAMECPP_BROADCAST_APP,
                                    {"--threads", GetParam().threads, "--log-level", "warn"});
    }

    // Starts the broadcasts to the stalled client and waits until most of them wait.
    std::vector<std::future<int>> StartBroadcasts(std::uint16_t port) {
        // The client has its 101 before /live has registered it (on 2 threads, the handler
        // may not have run yet): a broadcast sent now could find nobody.
        const auto registered = Clock::now() + 10s;
        while (GetStats(port).clients < 1 && Clock::now() < registered) {
            std::this_thread::sleep_for(5ms);
        }
        EXPECT_EQ(GetStats(port).clients, 1);
        std::vector<std::future<int>> answers;
        for (int i = 0; i < kBroadcasts; ++i) {
            answers.push_back(Broadcast(port, GetParam().mode));
        }
        if (GetParam().mode != "await") {
            for (auto& a : answers) {
                EXPECT_EQ(a.get(), 200);
            }
            answers.clear();
        }
        if (GetParam().mode != "queue") {
            // Under a loaded CI machine a request may take a while to reach its handler:
            // wait until every send has started rather than for a fixed time.
            const auto deadline = Clock::now() + 10s;
            while (GetStats(port).started < kBroadcasts && Clock::now() < deadline) {
                std::this_thread::sleep_for(20ms);
            }
        }
        std::this_thread::sleep_for(500ms);  // the sends fill the socket buffers, then wait
        return answers;
    }
};

TEST_P(BroadcastProcess, SendsEndWhenTheStalledClientLeavesAndSigintExitsZero) {
    SampleProcess app = Start();
    std::optional<RawWebSocket> stalled;
    stalled.emplace(app.port(), "/live");  // never reads
    std::vector<std::future<int>> answers = StartBroadcasts(app.port());
    if (GetParam().mode != "queue") {
        const Stats before = GetStats(app.port());
        ASSERT_EQ(before.started, kBroadcasts);
        ASSERT_LE(before.ok + before.gone, kBroadcasts - 4)
            << "too few sends were waiting for the test to mean anything";
    }

    stalled->drop();  // the client leaves (unread bytes: a reset)
    const auto left = Clock::now();
    if (GetParam().mode == "await") {
        for (auto& a : answers) {
            ASSERT_EQ(a.wait_until(left + 1s), std::future_status::ready)
                << "a broadcast still waits 1 s after the client left";
            EXPECT_EQ(a.get(), 200);
        }
    } else if (GetParam().mode != "queue") {
        const Stats after = WaitForSendsToEnd(app.port(), kBroadcasts, 1000ms);
        EXPECT_EQ(after.ok + after.gone, kBroadcasts) << "sends still waiting 1 s after";
    }

    const auto stopping = Clock::now();
    EXPECT_EQ(app.stop(SIGINT, std::chrono::seconds(15)), 0);
    EXPECT_LE(Clock::now() - stopping, kExitBound);
}

TEST_P(BroadcastProcess, SigintWithTheStalledClientStillThereExitsZeroWithinTheGracePeriod) {
    SampleProcess app = Start();
    RawWebSocket stalled(app.port(), "/live");  // never reads, never leaves
    std::vector<std::future<int>> answers = StartBroadcasts(app.port());

    const auto stopping = Clock::now();
    EXPECT_EQ(app.stop(SIGINT, std::chrono::seconds(15)), 0);
    EXPECT_LE(Clock::now() - stopping, kExitBound);
    for (auto& a : answers) {
        // The process is gone: each request got its answer, or its connection ended.
        EXPECT_EQ(a.wait_for(1s), std::future_status::ready);
        try {
            a.get();
        } catch (const std::exception&) {
        }
    }
}

// A coroutine of the app that waits for something that never comes, started detached so that
// nothing cancels it: the loops stop a second after the grace period, and the process exits 0.
TEST(BroadcastProcessShutdown, SigintEndsTheProcessDespiteACoroutineNothingCancels) {
    SampleProcess app =
        SampleProcess::start(FLAMECPP_BROADCAST_APP, {"--threads", "2", "--log-level", "error"});
    for (int i = 0; i < 4; ++i) {
        RawConnection c(app.port());
        c.send(make_request("POST", "/forever"));
        EXPECT_EQ(c.read_response().body, "waiting");
    }
    const auto stopping = Clock::now();
    EXPECT_EQ(app.stop(SIGINT, std::chrono::seconds(15)), 0);
    // The grace period (3 s) and the second after it.
    EXPECT_GE(Clock::now() - stopping, 3s);
    EXPECT_LE(Clock::now() - stopping, 3s + kExitBound);
}

INSTANTIATE_TEST_SUITE_P(Modes,
                         BroadcastProcess,
                         ::testing::Values(Param{"await", "1"},
                                           Param{"await", "2"},
                                           Param{"detached", "1"},
                                           Param{"detached", "2"},
                                           Param{"spawn", "1"},
                                           Param{"spawn", "2"},
                                           Param{"queue", "1"},
                                           Param{"queue", "2"}),
                         [](const auto& p) { return p.param.mode + "_threads" + p.param.threads; });

}  // namespace
}  // namespace flamecpp::test
