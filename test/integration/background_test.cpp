// Background tasks attached to a response: they start once it is written, do not hold up the
// connection, are logged when they throw, and the graceful shutdown lets them finish.
#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include <flamecpp/flamecpp.hpp>
#include <flamecpp/testing.hpp>
#include <flamecpp/websocket.hpp>

#include "http_client.hpp"

namespace flamecpp {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using testing::ClientOptions;
using testing::TestClient;

struct Jobs {
    std::atomic<int> started{0};
    std::atomic<int> done{0};
};

Task<void> job(std::shared_ptr<Jobs> jobs, std::chrono::milliseconds takes) {
    ++jobs->started;
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, takes);
    co_await timer.async_wait(boost::asio::use_awaitable);
    ++jobs->done;
}

Task<void> failing_job() {
    co_await boost::asio::this_coro::executor;
    throw std::runtime_error("the job failed");
}

App jobs_app(std::shared_ptr<Jobs> jobs) {
    App app;
    app.route("/jobs",
              [jobs] {
                  return Response::text("accepted", Status::accepted).background(job(jobs, 300ms));
              },
              {Method::post});
    app.route("/two", [jobs] {
        Response r = Response::text("two");
        r.background(job(jobs, 10ms)).background(job(jobs, 10ms));
        return r;
    });
    app.route("/fails", [] { return Response::text("ok").background(failing_job()); });
    app.route("/done", [jobs] { return std::to_string(jobs->done.load()); });
    app.websocket_route("/ws", [](WebSocket& ws) -> Task<void> { co_await ws.accept(); });
    return app;
}

TEST(Background, RunsAfterTheAnswerWithoutHoldingUpTheConnection) {
    auto jobs = std::make_shared<Jobs>();
    TestClient client(jobs_app(jobs), ClientOptions{.log_level = LogLevel::off});
    const auto asked = Clock::now();
    EXPECT_EQ(client.post("/jobs").status, 202);
    EXPECT_LT(Clock::now() - asked, 250ms) << "the answer waited for its background task";
    // The same connection serves the next request at once; the job still runs.
    EXPECT_EQ(client.get("/done").text(), "0");
    EXPECT_LT(Clock::now() - asked, 250ms);
    const auto deadline = Clock::now() + 5s;
    while (jobs->done < 1 && Clock::now() < deadline) {
        std::this_thread::sleep_for(10ms);
    }
    EXPECT_EQ(client.get("/done").text(), "1");
    EXPECT_EQ(client.get("/two").text(), "two");
    while (jobs->done < 3 && Clock::now() < deadline) {
        std::this_thread::sleep_for(10ms);
    }
    EXPECT_EQ(jobs->done, 3);
}

TEST(Background, AFailingTaskIsLoggedAndTheServerGoesOn) {
    auto jobs = std::make_shared<Jobs>();
    TestClient client(jobs_app(jobs),
                      ClientOptions{.raise_server_exceptions = false, .log_level = LogLevel::off});
    EXPECT_EQ(client.get("/fails").text(), "ok");
    EXPECT_EQ(client.get("/done").status, 200);
}

TEST(Background, AnAnswerPipelinedBeforeAnUpgradeStillStartsItsTask) {
    auto jobs = std::make_shared<Jobs>();
    TestClient client(jobs_app(jobs), ClientOptions{.log_level = LogLevel::off});
    test::RawConnection c(client.port());
    c.send(test::make_request("POST", "/jobs", {{"Content-Length", "0"}}) +
           test::make_request("GET", "/ws",
                              {{"Upgrade", "websocket"},
                               {"Connection", "Upgrade"},
                               {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
                               {"Sec-WebSocket-Version", "13"}}));
    EXPECT_EQ(c.read_response().status, 202);
    const auto deadline = Clock::now() + 5s;
    while (jobs->done < 1 && Clock::now() < deadline) {
        std::this_thread::sleep_for(10ms);
    }
    EXPECT_EQ(jobs->done, 1) << "the job of the answer written before the upgrade never ran";
}

TEST(Background, TheGracefulShutdownLetsThemFinish) {
    auto jobs = std::make_shared<Jobs>();
    App app = jobs_app(jobs);
    ServerOptions options;
    options.port = 0;
    options.handle_signals = false;
    options.print_listening = false;
    options.log_level = LogLevel::off;
    Server server(app, options);
    test::RawConnection c(server.port());
    c.send(test::make_request("POST", "/jobs"));
    EXPECT_EQ(c.read_response().status, 202);
    const auto deadline = Clock::now() + 5s;
    while (jobs->started < 1 && Clock::now() < deadline) {
        std::this_thread::sleep_for(5ms);
    }
    server.stop();
    server.wait();
    EXPECT_EQ(jobs->done, 1) << "the shutdown cancelled a background task";
}

}  // namespace
}  // namespace flamecpp
