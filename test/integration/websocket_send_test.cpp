// Sends to a WebSocket whose client has stopped reading, and what happens to them when the
// connection ends (issue: sends to a departed client never finished). A real Server on
// 127.0.0.1, port 0, in this process; the stalled client is a RawWebSocket that never reads, so
// the server's sends fill the socket buffers and wait.
//
// Senders run in three places: on the connection's own thread, on another worker thread, and on
// threads outside the server. Each journals how its send ended under "send:<connection>".
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>
#include <gtest/gtest.h>

#include <flamecpp/app.hpp>
#include <flamecpp/flamecpp.hpp>
#include <flamecpp/websocket.hpp>

#include "http_client.hpp"
#include "journal.hpp"
#include "quiet_options.hpp"
#include "run.hpp"
#include "ws_client.hpp"

namespace flamecpp {
namespace {

using namespace std::chrono_literals;
using test::RawWebSocket;
using test::ws_frame;
namespace op = test::opcode;

using Clock = std::chrono::steady_clock;

test::Journal& journal() {
    static test::Journal instance;
    return instance;
}

std::string thread_tag() {
    return std::to_string(std::hash<std::thread::id>{}(std::this_thread::get_id()));
}

// Live connections by ?name=, as an app keeps its clients' handles.
std::mutex registry_mutex;
std::map<std::string, WebSocket> registry;

std::optional<WebSocket> find(const std::string& name) {
    std::lock_guard lock(registry_mutex);
    auto it = registry.find(name);
    if (it == registry.end()) {
        return std::nullopt;
    }
    return it->second;
}

// How one send ended: "ok", "disconnect <code>", or "error <what>".
Task<void> send_one(WebSocket ws, std::string key, std::size_t size) {
    std::string outcome = "ok";
    try {
        co_await ws.send_text(std::string(size, 'x'));
    } catch (const WebSocketDisconnect& e) {
        outcome = "disconnect " + std::to_string(static_cast<int>(e.code()));
    } catch (const std::exception& e) {
        outcome = std::string("error ") + e.what();
    }
    journal().add(key, outcome);
}

// "<how> <name> <count> <size>": `count` senders to <name>, on the calling thread, started
// with co_spawn(..., detached) (how = "detached") or flamecpp::spawn (how = "spawn").
void start_senders(const boost::asio::any_io_executor& executor, const std::string& command) {
    char how[16] = {};
    char name[64] = {};
    std::size_t count = 0;
    std::size_t size = 0;
    std::optional<WebSocket> target;
    if (std::sscanf(command.c_str(), "%15s %63s %zu %zu", how, name, &count, &size) == 4) {
        target = find(name);
    }
    if (!target) {
        journal().add("bad-command", command);
        return;
    }
    for (std::size_t i = 0; i < count; ++i) {
        auto task = send_one(*target, std::string("send:") + name, size);
        if (std::string_view(how) == "spawn") {
            spawn(std::move(task));
        } else {
            boost::asio::co_spawn(executor, std::move(task), boost::asio::detached);
        }
    }
}

// The message queue_messages() sends as number `i`: its number, then padding to `size`.
std::string numbered(std::size_t i, std::size_t size) {
    std::string text = std::to_string(i) + ":";
    text.resize(std::max(size, text.size()), '.');
    return text;
}

// "queue <count> <size>": queues `count` numbered messages on `ws`, journals the numbers
// queue_text took under "queued:<name>" (comma-separated), then sends "done" with an awaited
// send (which no full queue refuses).
Task<void> queue_messages(WebSocket& ws, const std::string& name, const std::string& command) {
    std::size_t count = 0;
    std::size_t size = 0;
    if (std::sscanf(command.c_str(), "queue %zu %zu", &count, &size) != 2) {
        journal().add("bad-command", command);
        co_return;
    }
    std::string taken;
    for (std::size_t i = 0; i < count; ++i) {
        if (ws.queue_text(numbered(i, size))) {
            taken += (taken.empty() ? "" : ",") + std::to_string(i);
        }
    }
    journal().add("queued:" + name, taken);
    co_await ws.send_text("done");
}

// /live?name=N: registers its handle, says which thread it is on, then takes commands while
// it receives (its client may stop reading but can still send).
Task<void> live(WebSocket& ws) {
    const std::string name = ws.request().query("name").value_or("?");
    co_await ws.accept();
    {
        std::lock_guard lock(registry_mutex);
        registry.insert_or_assign(name, ws);
    }
    co_await ws.send_text("thread " + thread_tag());
    const auto executor = co_await boost::asio::this_coro::executor;
    try {
        for (;;) {
            const std::string command = co_await ws.receive_text();
            if (command.rfind("queue ", 0) == 0) {
                co_await queue_messages(ws, name, command);
            } else {
                start_senders(executor, command);
            }
        }
    } catch (const WebSocketDisconnect& e) {
        journal().add("live-ended:" + name, std::to_string(static_cast<int>(e.code())));
    }
}

// /cmd: starts senders on its own thread, whichever it is.
Task<void> command(WebSocket& ws) {
    co_await ws.accept();
    co_await ws.send_text("thread " + thread_tag());
    const auto executor = co_await boost::asio::this_coro::executor;
    for (;;) {
        start_senders(executor, co_await ws.receive_text());
        co_await ws.send_text("started");
    }
}

ServerOptions quiet_options() { return test::quiet_options(2); }

// How the stalled client's connection ends.
enum class Ending { fin, reset, close_frame, protocol_error, idle_timeout, server_stop };

std::string ending_name(Ending e) {
    switch (e) {
        case Ending::fin:
            return "PeerSendsFin";
        case Ending::reset:
            return "PeerResets";
        case Ending::close_frame:
            return "PeerSendsCloseFrame";
        case Ending::protocol_error:
            return "PeerBreaksTheProtocol";
        case Ending::idle_timeout:
            return "HalfOpenPeerIdlesOut";
        case Ending::server_stop:
            return "ServerStops";
    }
    return "?";
}

constexpr std::size_t kSendersPerPlace = 8;
// Three places of 8 senders of 1 MiB: far more than loopback's socket buffers take (about
// 10 MiB at most), so most senders wait when the connection ends.
constexpr std::size_t kPayload = 1024 * 1024;
constexpr std::size_t kSenders = 3 * kSendersPerPlace;

// How the senders on server threads are started.
enum class Launch { detached, spawn };

class StalledClientTest : public ::testing::TestWithParam<std::tuple<Ending, Launch>> {
protected:
    void SetUp() override {
        journal().clear();
        app.websocket_route("/live", live);
        app.websocket_route("/cmd", command);
        app.limits().websocket_close_timeout = 300ms;
        app.limits().shutdown_grace = 3s;
        if (ending() == Ending::idle_timeout) {
            app.limits().websocket_ping_interval = 0ms;  // the idle timeout applies
            app.limits().websocket_idle_timeout = 500ms;
        }
        server.emplace(app, quiet_options());
    }

    Ending ending() const { return std::get<0>(GetParam()); }

    void TearDown() override {
        {
            std::lock_guard lock(registry_mutex);
            registry.clear();
        }
        server.reset();
        for (auto& t : outside) {
            t.join();
        }
    }

    // A /live connection whose client reads the thread line and then never reads again.
    RawWebSocket ConnectStalled(const std::string& name, std::string& thread) {
        RawWebSocket raw(server->port(), "/live?name=" + name);
        std::optional<test::RawFrame> hello = raw.read_frame();
        if (!hello || hello->payload.rfind("thread ", 0) != 0) {
            throw std::runtime_error("no thread line from /live");
        }
        thread = hello->payload.substr(7);
        return raw;
    }

    // A /cmd connection on another worker thread than `thread`.
    std::optional<test::WsClient> CommanderElsewhere(const std::string& thread) {
        for (int i = 0; i < 24; ++i) {
            test::WsClient c;
            c.connect(server->port(), "/cmd");
            const test::WsEvent hello = c.receive();
            if (hello != test::ws_text("thread " + thread)) {
                return c;
            }
        }
        return std::nullopt;
    }

    // Starts kSendersPerPlace senders of kPayload bytes to `name` on its own thread, on another
    // worker thread and on threads outside the server.
    void StartSenders(const std::string& name, RawWebSocket& raw, test::WsClient& commander) {
        const std::string how = std::get<1>(GetParam()) == Launch::spawn ? "spawn " : "detached ";
        const std::string command =
            how + name + " " + std::to_string(kSendersPerPlace) + " " + std::to_string(kPayload);
        ASSERT_TRUE(raw.send(ws_frame(op::text, command)));
        commander.send_text(command);
        ASSERT_EQ(commander.receive(), test::ws_text("started"));
        std::optional<WebSocket> handle = find(name);
        ASSERT_TRUE(handle.has_value());
        for (std::size_t i = 0; i < kSendersPerPlace; ++i) {
            outside.emplace_back(
                [handle, name] { test::run(send_one(*handle, "send:" + name, kPayload)); });
        }
    }

    App app;
    std::optional<Server> server;
    std::vector<std::thread> outside;
};

TEST_P(StalledClientTest, EveryPendingSendEndsWhenTheConnectionEnds) {
    std::string thread;
    RawWebSocket raw = ConnectStalled("stalled", thread);
    std::optional<test::WsClient> commander = CommanderElsewhere(thread);
    ASSERT_TRUE(commander.has_value()) << "24 connections all landed on the stalled one's thread";
    StartSenders("stalled", raw, *commander);
    std::this_thread::sleep_for(300ms);  // the senders fill the socket buffers, then wait
    const std::size_t done_before = journal().all("send:stalled").size();
    ASSERT_LE(done_before, kSenders - kSendersPerPlace)
        << "too few senders were still waiting for the test to mean anything";

    const auto ended = Clock::now();
    auto bound = 1000ms;
    switch (ending()) {
        case Ending::fin:
            raw.shutdown_write();
            break;
        case Ending::reset:
            raw.drop();  // unread bytes: close(2) sends a reset
            break;
        case Ending::close_frame:
            ASSERT_TRUE(raw.send(ws_frame(op::close, test::close_payload(1000))));
            break;
        case Ending::protocol_error:
            ASSERT_TRUE(raw.send(ws_frame(op::text, "unmasked", true, false)));
            break;
        case Ending::idle_timeout:
            // Nothing: the peer is silent. Idle after 500 ms, then 300 ms for the close
            // handshake, each seen by the 250 ms sweep.
            bound += 1300ms;
            break;
        case Ending::server_stop:
            server->stop();
            bound += 300ms;  // the close handshake's timeout
            break;
    }
    const std::vector<std::string> outcomes =
        journal().wait_for("send:stalled", kSenders, bound + 500ms);
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - ended);
    ASSERT_EQ(outcomes.size(), kSenders)
        << kSenders - outcomes.size() << " send(s) still waiting after " << took.count() << " ms";
    EXPECT_LE(took, bound);
    for (const std::string& outcome : outcomes) {
        EXPECT_TRUE(outcome == "ok" || outcome.rfind("disconnect ", 0) == 0) << outcome;
    }
    EXPECT_TRUE(journal().wait("live-ended:stalled").has_value());
    if (ending() == Ending::server_stop) {
        const auto stopping = Clock::now();
        server->wait();
        EXPECT_LE(Clock::now() - stopping, 1s);
    }
}

INSTANTIATE_TEST_SUITE_P(Endings,
                         StalledClientTest,
                         ::testing::Combine(::testing::Values(Ending::fin,
                                                              Ending::reset,
                                                              Ending::close_frame,
                                                              Ending::protocol_error,
                                                              Ending::idle_timeout,
                                                              Ending::server_stop),
                                            ::testing::Values(Launch::detached, Launch::spawn)),
                         [](const auto& p) {
                             return ending_name(std::get<0>(p.param)) +
                                    (std::get<1>(p.param) == Launch::spawn ? "_Spawned"
                                                                           : "_Detached");
                         });

// ---------------------------------------------------------------------------------------------
// Queue-only sends.

class QueueTest : public ::testing::Test {
protected:
    void SetUp() override {
        journal().clear();
        app.websocket_route("/live", live);
        app.limits().websocket_send_queue_bytes = 256 * 1024;
        app.limits().websocket_close_timeout = 1s;
        Start();
    }

    void TearDown() override {
        {
            std::lock_guard lock(registry_mutex);
            registry.clear();
        }
        server.reset();
    }

    void Start() {
        server.reset();
        server.emplace(app, quiet_options());
    }

    // The numbers of the messages the server took, from the journal.
    std::vector<std::size_t> Taken(const std::string& name) {
        std::vector<std::size_t> numbers;
        const std::optional<std::string> list = journal().wait("queued:" + name);
        if (!list) {
            ADD_FAILURE() << "the view did not report what it queued";
            return numbers;
        }
        std::size_t at = 0;
        while (at < list->size()) {
            std::size_t end = list->find(',', at);
            if (end == std::string::npos) {
                end = list->size();
            }
            numbers.push_back(std::stoul(list->substr(at, end - at)));
            at = end + 1;
        }
        return numbers;
    }

    App app;
    std::optional<Server> server;
};

// The numbers of the numbered messages among `frames`, and whether "done" came last.
std::vector<std::size_t> NumbersIn(const std::vector<test::RawFrame>& frames) {
    std::vector<std::size_t> numbers;
    for (const test::RawFrame& f : frames) {
        if (f.opcode == op::text && f.payload != "done") {
            numbers.push_back(std::stoul(f.payload.substr(0, f.payload.find(':'))));
        }
    }
    return numbers;
}

TEST_F(QueueTest, QueuedMessagesArriveInOrderBeforeALaterAwaitedSend) {
    test::WsClient client;
    client.connect(server->port(), "/live?name=reader");
    ASSERT_TRUE(std::holds_alternative<test::WsMessage>(client.receive()));
    client.send_text("queue 100 1000");
    for (std::size_t i = 0; i < 100; ++i) {
        ASSERT_EQ(client.receive(), test::ws_text(numbered(i, 1000)));
    }
    EXPECT_EQ(client.receive(), test::ws_text("done"));
    EXPECT_EQ(Taken("reader").size(), 100u);

    // From a thread outside the server, in the order given.
    std::optional<WebSocket> handle = find("reader");
    ASSERT_TRUE(handle.has_value());
    std::thread outside([handle]() mutable {
        for (std::size_t i = 0; i < 20; ++i) {
            EXPECT_TRUE(handle->queue_text("outside " + std::to_string(i)));
        }
    });
    outside.join();
    for (std::size_t i = 0; i < 20; ++i) {
        ASSERT_EQ(client.receive(), test::ws_text("outside " + std::to_string(i)));
    }
    EXPECT_EQ(client.close(1000).code, 1000);
}

TEST_F(QueueTest, AFullQueueClosesTheConnectionWith1008) {
    RawWebSocket raw(server->port(), "/live?name=slow");
    ASSERT_TRUE(raw.read_frame().has_value());
    // 400 x 64 KiB: the kernel takes some 10 MiB, the queue 256 KiB more, the rest is refused.
    ASSERT_TRUE(raw.send(ws_frame(op::text, "queue 400 65536")));
    const std::vector<std::size_t> taken = Taken("slow");
    ASSERT_FALSE(taken.empty());
    EXPECT_LT(taken.size(), 400u) << "nothing was refused";
    // Reading now: what went out before the overflow, in order, then the close frame.
    EXPECT_EQ(raw.read_close_code(10'000ms), 1008);
    const std::vector<std::size_t> got = NumbersIn(raw.skipped());
    EXPECT_TRUE(std::is_sorted(got.begin(), got.end()));
    EXPECT_LE(got.size(), taken.size());
    ASSERT_TRUE(raw.send(ws_frame(op::close, test::close_payload(1008))));
    EXPECT_EQ(journal().wait("live-ended:slow").value_or("<not recorded>"), "1008");
    std::optional<WebSocket> handle = find("slow");
    ASSERT_TRUE(handle.has_value());
    EXPECT_FALSE(handle->queue_text("after the close"));
}

TEST_F(QueueTest, AFullQueueWithTheDropPolicyDropsOnlyTheMessagesItRefused) {
    server.reset();
    app.limits().websocket_queue_full = QueueFull::drop;
    Start();
    RawWebSocket raw(server->port(), "/live?name=dropper");
    ASSERT_TRUE(raw.read_frame().has_value());
    ASSERT_TRUE(raw.send(ws_frame(op::text, "queue 400 65536")));
    const std::vector<std::size_t> taken = Taken("dropper");
    EXPECT_LT(taken.size(), 400u) << "nothing was refused";
    // The connection stays: every message taken arrives, in order, then "done".
    std::vector<test::RawFrame> frames;
    for (;;) {
        std::optional<test::RawFrame> f = raw.read_frame(10'000ms);
        ASSERT_TRUE(f.has_value()) << "the server closed the connection";
        if (f->payload == "done") {
            break;
        }
        frames.push_back(std::move(*f));
    }
    EXPECT_EQ(NumbersIn(frames), taken);
    ASSERT_TRUE(raw.send(ws_frame(op::close, test::close_payload(1000))));
    EXPECT_EQ(raw.read_close_code(), 1000);
}

TEST_F(QueueTest, QueueingFromAnotherThreadCountsTowardTheLimit) {
    RawWebSocket raw(server->port(), "/live?name=far");
    ASSERT_TRUE(raw.read_frame().has_value());
    std::optional<WebSocket> handle = find("far");
    ASSERT_TRUE(handle.has_value());
    const std::string message(64 * 1024, 'm');
    std::size_t accepted = 0;
    while (accepted < 1000 && handle->queue_text(message)) {
        ++accepted;
    }
    EXPECT_LT(accepted, 1000u) << "the queue never filled";
    // The overflow closes the connection: the client does not answer, so it is cut after the
    // close timeout.
    EXPECT_EQ(journal().wait("live-ended:far", 10'000ms).value_or("<not recorded>"), "1008");
    EXPECT_FALSE(handle->queue_text(message));
    EXPECT_EQ(handle->close_code(), Code::policy_violation);
}

// ---------------------------------------------------------------------------------------------
// Tasks the server owns, and a shutdown that always ends.

// Journals "destroyed:<key>" when the coroutine frame holding it goes, however it goes.
struct Sentinel {
    std::string key;
    ~Sentinel() { journal().add("destroyed:" + key, "yes"); }
};

// Waits an hour unless cancelled; journals how it ended.
Task<void> wait_an_hour(std::string key) {
    Sentinel sentinel{key};
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, 1h);
    try {
        co_await timer.async_wait(boost::asio::use_awaitable);
        journal().add(key, "woke");
    } catch (const boost::system::system_error& e) {
        journal().add(key,
                      e.code() == boost::asio::error::operation_aborted ? "cancelled" : e.what());
        throw;
    }
}

Task<void> throw_soon() {
    co_await boost::asio::post(co_await boost::asio::this_coro::executor,
                               boost::asio::use_awaitable);
    throw std::runtime_error("task failed on purpose");
}

class TasksTest : public ::testing::Test {
protected:
    void SetUp() override {
        journal().clear();
        app.route("/spawn/wait", [] {
            spawn(wait_an_hour("spawned"));
            return Response::text("started");
        });
        app.route("/spawn/throw", [] {
            spawn(throw_soon());
            return Response::text("started");
        });
        app.route("/detached/wait", []() -> Task<Response> {
            boost::asio::co_spawn(co_await boost::asio::this_coro::executor,
                                  wait_an_hour("detached"), boost::asio::detached);
            co_return Response::text("started");
        });
        app.limits().shutdown_grace = 500ms;
    }

    App app;
};

TEST_F(TasksTest, ATasksExceptionIsLoggedAndReportedAndTheServerGoesOn) {
    ServerOptions options = quiet_options();
    options.on_handler_error = [](std::exception_ptr error) {
        try {
            std::rethrow_exception(error);
        } catch (const std::exception& e) {
            journal().add("reported", e.what());
        }
    };
    Server server(app, options);
    EXPECT_EQ(test::http_get(server.port(), "/spawn/throw").body, "started");
    EXPECT_EQ(journal().wait("reported").value_or("<nothing>"), "task failed on purpose");
    EXPECT_EQ(test::http_get(server.port(), "/spawn/throw").status, 200);
}

TEST_F(TasksTest, ShutdownCancelsTheServersTasksAndWaitsForThem) {
    Server server(app, quiet_options());
    EXPECT_EQ(test::http_get(server.port(), "/spawn/wait").body, "started");
    const auto stopping = Clock::now();
    server.stop();
    server.wait();
    EXPECT_LT(Clock::now() - stopping, 500ms) << "the shutdown did not end the task at once";
    EXPECT_EQ(journal().wait("spawned", 0ms).value_or("<nothing>"), "cancelled");
    EXPECT_TRUE(journal().wait("destroyed:spawned", 0ms).has_value());
}

TEST_F(TasksTest, ATaskStartedWhileTheShutdownRunsIsCancelledAtOnce) {
    app.route("/spawn/late", []() -> Task<Response> {
        boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, 300ms);
        co_await timer.async_wait(boost::asio::use_awaitable);
        spawn(wait_an_hour("late"));
        co_return Response::text("started");
    });
    app.limits().shutdown_grace = 3s;
    Server server(app, quiet_options());
    std::optional<test::RawConnection> c;
    c.emplace(server.port());
    c->send(test::make_request("GET", "/spawn/late"));
    std::this_thread::sleep_for(100ms);  // the handler waits its 300 ms
    const auto stopping = Clock::now();
    server.stop();
    EXPECT_EQ(c->read_response().body, "started");
    c.reset();  // else the server lingers on the connection after its last answer
    server.wait();
    EXPECT_LT(Clock::now() - stopping, 1500ms) << "the late task was not cancelled";
    EXPECT_EQ(journal().wait("late", 0ms).value_or("<nothing>"), "cancelled");
}

TEST_F(TasksTest, ShutdownEndsEvenWithACoroutineThatNothingCancels) {
    Server server(app, quiet_options());
    EXPECT_EQ(test::http_get(server.port(), "/detached/wait").body, "started");
    const auto stopping = Clock::now();
    server.stop();
    server.wait();
    // The grace period (500 ms) and the second after it, then the loops stop.
    const auto took = Clock::now() - stopping;
    EXPECT_GE(took, 1400ms);
    EXPECT_LT(took, 2500ms);
    EXPECT_TRUE(journal().wait("destroyed:detached", 0ms).has_value())
        << "the waiting coroutine was not destroyed by wait()";
}

TEST_F(TasksTest, SpawnOutsideAServerThreadIsALogicError) {
    EXPECT_THROW(spawn(wait_an_hour("nowhere")), std::logic_error);
}

TEST_F(TasksTest, AnIdleLoopIsNotReportedAsBlockedWhileShutdownWaits) {
    ServerOptions options = quiet_options();
    options.log_level = LogLevel::warn;
    options.stall_warning = 200ms;
    app.limits().shutdown_grace = 1000ms;
    ::testing::internal::CaptureStderr();
    {
        Server server(app, options);
        EXPECT_EQ(test::http_get(server.port(), "/detached/wait").body, "started");
        server.stop();
        server.wait();
    }
    const std::string log = ::testing::internal::GetCapturedStderr();
    EXPECT_EQ(log.find("has not run its event loop"), std::string::npos) << log;
    EXPECT_NE(log.find("still has work a second after the shutdown grace period"),
              std::string::npos)
        << log;
}

// A handler that ignores the shutdown keeps its connection past the grace period; the loops are
// stopped, and a handle the app kept is then safe: closed, sends throw, queueing refuses.
Task<void> ignore_shutdown(WebSocket& ws) {
    co_await ws.accept();
    {
        std::lock_guard lock(registry_mutex);
        registry.insert_or_assign("stubborn", ws);
    }
    co_await wait_an_hour("stubborn");
}

TEST_F(TasksTest, AHandleKeptPastAStoppedLoopIsClosedAndSafe) {
    app.websocket_route("/stubborn", ignore_shutdown);
    app.limits().websocket_close_timeout = 200ms;
    std::optional<Server> server;
    server.emplace(app, quiet_options());
    test::WsClient client;
    client.connect(server->port(), "/stubborn");
    std::optional<WebSocket> handle;
    for (int i = 0; i < 100 && !handle; ++i) {
        handle = find("stubborn");
        std::this_thread::sleep_for(10ms);
    }
    ASSERT_TRUE(handle.has_value());
    server->stop();
    EXPECT_EQ(client.receive(), test::ws_closed(1001));
    server->wait();
    EXPECT_TRUE(journal().wait("destroyed:stubborn", 0ms).has_value());
    EXPECT_EQ(handle->state(), WebSocket::State::closed);
    EXPECT_THROW(test::run(handle->send_text("late")), WebSocketDisconnect);
    EXPECT_FALSE(handle->queue_text("late"));
    {
        std::lock_guard lock(registry_mutex);
        registry.clear();
    }
    server.reset();
    EXPECT_THROW(test::run(handle->send_text("later")), WebSocketDisconnect);
    handle.reset();
}

}  // namespace
}  // namespace flamecpp
