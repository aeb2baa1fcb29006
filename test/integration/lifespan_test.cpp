// Startup and shutdown hooks, run by the server (and so by TestClient) around the app's life.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include <flamecpp/flamecpp.hpp>
#include <flamecpp/testing.hpp>

#include "http_client.hpp"

namespace flamecpp {
namespace {

using namespace std::chrono_literals;
using testing::ClientOptions;
using testing::TestClient;

ClientOptions quiet() { return ClientOptions{.log_level = LogLevel::off}; }

ServerOptions server_options() {
    ServerOptions options;
    options.port = 0;
    options.handle_signals = false;
    options.print_listening = false;
    options.log_level = LogLevel::off;
    return options;
}

/// What happened, in order, across the hooks and handlers of one test.
struct Journal : Component {
    std::mutex mutex;
    std::vector<std::string> lines;
    void add(std::string line) {
        std::lock_guard lock(mutex);
        lines.push_back(std::move(line));
    }
    std::vector<std::string> read() {
        std::lock_guard lock(mutex);
        return lines;
    }
};

/// A component only a startup hook can make: it needs the loop to set up.
struct Pool : Component {
    explicit Pool(int connections) : size(connections) {}
    int size;
};

Task<void> wait_for(std::chrono::milliseconds time) {
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, time);
    co_await timer.async_wait(boost::asio::use_awaitable);
}

TEST(Lifespan, StartupRunsInOrderBeforeServingAndMayRegisterComponents) {
    auto journal = std::make_shared<Journal>();
    App app;
    app.component(journal);
    app.on_startup([](Journal& j) { j.add("first"); });
    app.on_startup([](App& served, Journal& j) -> Task<void> {
        co_await wait_for(20ms);  // asynchronous set-up
        served.component(std::make_shared<Pool>(4));
        j.add("second");
    });
    app.on_startup(
        [](Pool& pool, Journal& j) { j.add("third sees a pool of " + std::to_string(pool.size)); });
    app.route("/pool", [](Pool& pool, Journal& j) {
        j.add("request");
        return std::to_string(pool.size);
    });
    {
        TestClient client(app, quiet());
        EXPECT_EQ(journal->read(),
                  (std::vector<std::string>{"first", "second", "third sees a pool of 4"}));
        EXPECT_EQ(client.get("/pool").text(), "4");
    }
    EXPECT_EQ(journal->read().back(), "request");
}

TEST(Lifespan, ShutdownRunsInReverseAfterTheConnectionsDrain) {
    auto journal = std::make_shared<Journal>();
    App app;
    app.component(journal);
    app.on_shutdown([](Journal& j) { j.add("registered first, runs last"); });
    app.on_shutdown([](Journal& j) -> Task<void> {
        co_await wait_for(10ms);
        j.add("registered second, runs first");
    });
    app.route("/slow", [](Journal& j) -> Task<std::string> {
        co_await wait_for(200ms);
        j.add("slow request done");
        co_return "done";
    });
    Server server(app, server_options());
    std::thread request(
        [port = server.port()] { EXPECT_EQ(test::http_get(port, "/slow").body, "done"); });
    std::this_thread::sleep_for(50ms);  // the request is in flight
    server.stop();
    server.wait();
    request.join();
    EXPECT_FALSE(server.shutdown_failed());
    EXPECT_EQ(journal->read(),
              (std::vector<std::string>{"slow request done", "registered second, runs first",
                                        "registered first, runs last"}));
}

TEST(Lifespan, AStartupHookThatThrowsStopsTheStartAndSaysWhich) {
    auto journal = std::make_shared<Journal>();
    App app;
    app.component(journal);
    app.on_startup([](Journal& j) { j.add("ran"); });
    app.on_startup(
        []() -> Task<void> {
            co_await wait_for(1ms);
            throw std::runtime_error("database unreachable");
        },
        "open the database");
    app.on_startup([](Journal& j) { j.add("must not run"); });
    app.on_shutdown([](Journal& j) { j.add("must not run either"); });
    try {
        TestClient client(app, quiet());
        FAIL() << "the start should have failed";
    } catch (const std::runtime_error& e) {
        EXPECT_STREQ(e.what(), "startup hook 'open the database' failed: database unreachable");
    }
    EXPECT_EQ(journal->read(), std::vector<std::string>{"ran"});

    App unnamed;
    unnamed.on_startup([] {});
    unnamed.on_startup([] { throw std::logic_error("bad config"); });
    try {
        TestClient client(unnamed, quiet());
        FAIL() << "the start should have failed";
    } catch (const std::runtime_error& e) {
        EXPECT_STREQ(e.what(), "startup hook #2 failed: bad config");
    }
}

TEST(Lifespan, AHookTakingAComponentNobodyRegisteredIsAStartupError) {
    App app;
    app.on_startup([](Pool& pool) { (void)pool; }, "warm the pool");
    try {
        TestClient client(app, quiet());
        FAIL() << "the start should have failed";
    } catch (const std::runtime_error& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find("startup hook 'warm the pool'"), std::string::npos) << what;
        EXPECT_NE(what.find("Pool"), std::string::npos) << what;
    }
}

TEST(Lifespan, AFailingOrOverrunningShutdownHookIsLoggedAndTheOthersRun) {
    auto journal = std::make_shared<Journal>();
    App app;
    app.component(journal);
    app.limits().shutdown_grace = 300ms;
    app.on_shutdown([](Journal& j) { j.add("last"); });
    app.on_shutdown([]() -> Task<void> { co_await wait_for(1h); }, "never ends");
    app.on_shutdown([] { throw std::runtime_error("flush failed"); });
    Server server(app, server_options());
    server.stop();
    const auto stopping = std::chrono::steady_clock::now();
    server.wait();
    EXPECT_LT(std::chrono::steady_clock::now() - stopping, 2s);
    EXPECT_TRUE(server.shutdown_failed());
    EXPECT_EQ(journal->read(), std::vector<std::string>{"last"});
}

// The hook that overran ends while the next one runs on the same loop: the next one is still
// waited for (its end is not mistaken for the overrun one's).
TEST(Lifespan, AnOverrunHookEndingLaterDoesNotCutTheNextShort) {
    auto journal = std::make_shared<Journal>();
    App app;
    app.component(journal);
    app.limits().shutdown_grace = 300ms;
    app.on_shutdown([](Journal& j) -> Task<void> {
        co_await wait_for(200ms);
        j.add("second done");
    });
    app.on_shutdown([](Journal& j) -> Task<void> {
        co_await wait_for(400ms);  // overruns its 300 ms, ends 100 ms into the next hook
        j.add("first done");
    });
    Server server(app, server_options());
    server.stop();
    server.wait();
    EXPECT_TRUE(server.shutdown_failed());
    const auto lines = journal->read();
    EXPECT_NE(std::find(lines.begin(), lines.end(), "second done"), lines.end());
}

TEST(Lifespan, WorkAStartupHookSpawnsRunsOnceTheServerRuns) {
    auto ticks = std::make_shared<std::atomic<int>>(0);
    App app;
    app.on_startup([ticks]() -> Task<void> {
        auto executor = co_await boost::asio::this_coro::executor;
        // A ticker for the app's life: startup does not wait for it.
        boost::asio::co_spawn(
            executor,
            [](std::shared_ptr<std::atomic<int>> count) -> Task<void> {
                for (int i = 0; i < 5; ++i) {
                    co_await wait_for(10ms);
                    ++*count;
                }
            }(ticks),
            boost::asio::detached);
    });
    app.route("/ticks", [ticks] { return std::to_string(ticks->load()); });
    TestClient client(app, quiet());
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (client.get("/ticks").text() != "5" && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(10ms);
    }
    EXPECT_EQ(client.get("/ticks").text(), "5");
}

}  // namespace
}  // namespace flamecpp
