// Integration tests of the `room` sample against the samples' contract (docs/samples.md): the
// rules every sample shares (sample_contract_tests.hpp) and the `room` table, over real
// loopback sockets against the real binary. The rows about several processes run two `room`
// processes on one Redis: the one the ctest fixture started (test/support/redis_fixture.sh,
// FLAMECPP_REDIS_DIR/port), or, where Redis is stopped and started mid-test, one of the test's
// own.
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "contract_checks.hpp"
#include "http_client.hpp"
#include "process.hpp"
#include "sample_contract_tests.hpp"
#include "ws_client.hpp"

#ifndef FLAMECPP_SAMPLE_ROOM
#error "FLAMECPP_SAMPLE_ROOM must be defined as the path of the room sample executable"
#endif
#ifndef FLAMECPP_REDIS_DIR
#error "FLAMECPP_REDIS_DIR must be defined as the folder of the Redis fixture"
#endif
#ifndef FLAMECPP_NGINX
#error "FLAMECPP_NGINX must be defined as the path of nginx"
#endif
#ifndef FLAMECPP_REDIS_SERVER
#error "FLAMECPP_REDIS_SERVER must be defined as the path of redis-server"
#endif

namespace flamecpp::test {
namespace {

using namespace std::chrono_literals;

constexpr Exchange kRoomPage{"/", 200, std::nullopt};
constexpr Exchange kRoomNotFound{"/no/such/path", 404, std::nullopt};
constexpr Exchange kRoomPipeline[] = {kRoomPage, kRoomNotFound, kRoomPage};
constexpr Probe kRoomProbes[] = {
    {"GET", "/"},         {"GET", "/no/such/path"}, {"GET", "/rooms/probe"},
    {"GET", "/ws/probe"},  // a WebSocket-only path: 426
    {"POST", "/"},
};

constexpr SampleTraits kRoom{
    .name = "room",
    .executable = FLAMECPP_SAMPLE_ROOM,
    .ok = kRoomPage,
    .next = kRoomNotFound,
    .pipeline = kRoomPipeline,
    .probes = kRoomProbes,
    .post_status = std::nullopt,
};

INSTANTIATE_TEST_SUITE_P(RoomContract, CommandLine, ::testing::Values(kRoom));
INSTANTIATE_TEST_SUITE_P(RoomContract, Lifecycle, ::testing::Values(kRoom));
INSTANTIATE_TEST_SUITE_P(RoomContract, Http, ::testing::Values(kRoom));
INSTANTIATE_TEST_SUITE_P(RoomContract, Limits, ::testing::Values(kRoom));
INSTANTIATE_TEST_SUITE_P(RoomContract, SlowLimits, ::testing::Values(kRoom));

/// What every client of room `room` receives for the text `text`.
WsEvent Said(std::string_view room, std::string_view text) {
    std::string json = R"({"room":")";
    json.append(room).append(R"(","text":")").append(text).append("\"}");
    return ws_text(json);
}

WsClient Join(std::uint16_t port, std::string_view room) {
    WsClient client;
    client.connect(port, "/ws/" + std::string(room));
    return client;
}

/// POST /rooms/{room}/messages {"text": text}; returns the status.
int PostMessage(std::uint16_t port, std::string_view room, std::string_view text) {
    RawConnection c(port);
    const std::string body = R"({"text":")" + std::string(text) + "\"}";
    c.send(make_request("POST", "/rooms/" + std::string(room) + "/messages",
                        {{"Content-Type", "application/json"}}, body));
    return c.read_response(kIo).status;
}

/// POSTs `count` messages "0" + text, "1" + text, ... to `room`, one after the other on one
/// keep-alive connection.
void PostMessages(std::uint16_t port, std::string_view room, std::string_view text, int count) {
    RawConnection c(port);
    for (int i = 0; i < count; ++i) {
        const std::string body = R"({"text":")" + std::to_string(i) + std::string(text) + "\"}";
        c.send(make_request("POST", "/rooms/" + std::string(room) + "/messages",
                            {{"Content-Type", "application/json"}}, body));
        if (c.read_response(kIo).status != 202) {
            ADD_FAILURE() << "POST " << i << " was not accepted";
            return;
        }
    }
}

std::string RoomInfo(std::uint16_t port, std::string_view room) {
    return http_get(port, "/rooms/" + std::string(room), kIo).body;
}

std::string ClientsJson(std::string_view room, int clients) {
    return R"({"room":")" + std::string(room) + R"(","clients":)" + std::to_string(clients) + "}";
}

/// Waits until GET /rooms/{room} on `port` counts `clients` (a connection's subscription is
/// made by its handler, just after the handshake; its end, just after the close).
bool WaitForClients(std::uint16_t port,
                    std::string_view room,
                    int clients,
                    std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (RoomInfo(port, room) == ClientsJson(room, clients)) {
            return true;
        }
        std::this_thread::sleep_for(20ms);
    }
    return false;
}

// ---------------------------------------------------------------------------------------------
// The `room` table, one process (memory://).

class RoomContract : public SampleServer<RoomContract> {
protected:
    void SetUp() override { UseSample(kRoom); }
};

TEST_F(RoomContract, PageIsUtf8HtmlThatJoinsARoomOnItsOwnHost) {
    const Response r = http_get(port(), "/", kIo);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(lowercase(r.header("Content-Type").value_or("<none>")), "text/html; charset=utf-8");
    ExpectCommonHeaders(r);
    EXPECT_TRUE(contains_ci(r.body, "<form")) << r.body;
    EXPECT_NE(r.body.find("new WebSocket("), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("location.host"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("\"/ws/\""), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("wss://"), std::string::npos) << "no wss: for a page over https";
    EXPECT_NE(r.body.find("onmessage"), std::string::npos) << r.body;
    for (const char* hard_coded : {"127.0.0.1", "localhost", ":8000"}) {
        EXPECT_EQ(r.body.find(hard_coded), std::string::npos) << hard_coded;
    }
}

TEST_F(RoomContract, EveryClientOfTheRoomGetsAMessageAndOtherRoomsNothing) {
    WsClient a = Join(port(), "one");
    WsClient b = Join(port(), "one");
    WsClient c = Join(port(), "two");
    ASSERT_TRUE(WaitForClients(port(), "one", 2));
    ASSERT_TRUE(WaitForClients(port(), "two", 1));
    a.send_text("M");
    EXPECT_EQ(a.receive(1s), Said("one", "M")) << "the sender is a client of the room too";
    EXPECT_EQ(b.receive(1s), Said("one", "M"));
    // c's next message is its own room's: nothing of room one came before it.
    c.send_text("N");
    EXPECT_EQ(c.receive(1s), Said("two", "N"));
    EXPECT_EQ(a.close().code, 1000);
    EXPECT_EQ(b.close().code, 1000);
    EXPECT_EQ(c.close().code, 1000);
}

TEST_F(RoomContract, TextIsCarriedAsJsonStringWhateverItHolds) {
    WsClient a = Join(port(), "caf\xC3\xA9");
    a.send_text("quote \" backslash \\ caf\xC3\xA9");
    EXPECT_EQ(a.receive(1s), ws_text("{\"room\":\"caf\xC3\xA9\",\"text\":\"quote \\\" backslash "
                                     "\\\\ caf\xC3\xA9\"}"));
}

TEST_F(RoomContract, MessagesFromOneSenderArriveInOrder) {
    WsClient sender = Join(port(), "order");
    WsClient listener = Join(port(), "order");
    ASSERT_TRUE(WaitForClients(port(), "order", 2));
    for (int i = 0; i < 200; ++i) {
        sender.send_text(std::to_string(i));
    }
    for (int i = 0; i < 200; ++i) {
        ASSERT_EQ(listener.receive(2s), Said("order", std::to_string(i)));
        ASSERT_EQ(sender.receive(2s), Said("order", std::to_string(i)));
    }
}

TEST_F(RoomContract, BinaryMessageClosesWith1003) {
    WsClient a = Join(port(), "bin");
    a.send_binary("bytes");
    EXPECT_EQ(a.receive(), ws_closed(1003));
    ExpectFreshConnectionServed(kRoom, port());
}

TEST_F(RoomContract, PostedMessageIsDeliveredLikeAWebSocketOne) {
    WsClient a = Join(port(), "posted");
    ASSERT_TRUE(WaitForClients(port(), "posted", 1));
    EXPECT_EQ(PostMessage(port(), "posted", "from http"), 202);
    EXPECT_EQ(a.receive(1s), Said("posted", "from http"));
    // A body that is not the message: 400, nothing delivered.
    RawConnection c(port());
    c.send(make_request("POST", "/rooms/posted/messages", {{"Content-Type", "application/json"}},
                        R"({"txt":1})"));
    EXPECT_EQ(c.read_response(kIo).status, 400);
    EXPECT_EQ(PostMessage(port(), "posted", "next"), 202);
    EXPECT_EQ(a.receive(1s), Said("posted", "next"));
}

TEST_F(RoomContract, RoomCountsItsClientsOnThisProcess) {
    EXPECT_EQ(RoomInfo(port(), "counted"), ClientsJson("counted", 0));
    {
        WsClient a = Join(port(), "counted");
        WsClient b = Join(port(), "counted");
        EXPECT_TRUE(WaitForClients(port(), "counted", 2));
        EXPECT_EQ(a.close().code, 1000);
        EXPECT_TRUE(WaitForClients(port(), "counted", 1));
        b.drop();  // gone without a close frame
    }
    EXPECT_TRUE(WaitForClients(port(), "counted", 0));
    const Response r = http_get(port(), "/rooms/counted", kIo);
    EXPECT_EQ(lowercase(r.header("Content-Type").value_or("")), "application/json");
}

TEST_F(RoomContract, ClientThatStopsReadingIsClosedWith1008AndTheOthersKeepUp) {
    RawWebSocket stalled(port(), "/ws/busy");  // never reads
    WsClient listener = Join(port(), "busy");
    ASSERT_TRUE(WaitForClients(port(), "busy", 2));
    const std::string big(60 * 1024, 'x');
    constexpr int kMessages = 300;  // 18 MiB: past the socket buffers and the 1 MiB queue
    const auto start = std::chrono::steady_clock::now();
    std::jthread send([&] { PostMessages(port(), "busy", big, kMessages); });
    for (int i = 0; i < kMessages; ++i) {
        ASSERT_EQ(listener.receive(5s), Said("busy", std::to_string(i) + big)) << "message " << i;
    }
    EXPECT_LT(seconds_since(start), 20.0);
    EXPECT_EQ(stalled.read_close_code(10s), 1008);
    EXPECT_TRUE(WaitForClients(port(), "busy", 1));
}

// "A client that only listens stays connected indefinitely while it answers the server's pings
// (sent after 20 s without traffic); one that stops answering is closed within 60 s." With the
// defaults: a ping after 20 s of silence, 20 s for the answer. Both clients are silent for 45 s:
// one answers the pings (Beast's stream does while it reads), one never does.
TEST(RoomSlowListeners, ListenerThatAnswersPingsStaysOneThatDoesNotIsClosed) {
    SampleProcess server = SampleProcess::start(FLAMECPP_SAMPLE_ROOM, {"--threads", "2"});
    WsClient listener = Join(server.port(), "quiet");
    RawWebSocket mute(server.port(), "/ws/quiet");  // reads nothing, answers nothing
    ASSERT_TRUE(WaitForClients(server.port(), "quiet", 2));
    const auto start = std::chrono::steady_clock::now();
    std::jthread mute_watch([&] {
        // Its first frame is the ping at 20 s; then, unanswered, the close.
        const int code = mute.read_close_code(60s);
        EXPECT_EQ(code, 1011) << "a client that does not answer is closed (1011 ping timeout)";
        EXPECT_GT(seconds_since(start), 35.0) << "closed before it had 20 s to answer";
        EXPECT_LT(seconds_since(start), 60.0);
        bool pinged = false;
        for (const RawFrame& frame : mute.skipped()) {
            pinged = pinged || frame.opcode == opcode::ping;
        }
        EXPECT_TRUE(pinged) << "no ping before the close";
    });
    // 45 s: past a ping and its answer's deadline. Then a message must still reach it.
    std::jthread late_post([&] {
        std::this_thread::sleep_for(45s);
        EXPECT_EQ(PostMessage(server.port(), "quiet", "still there?"), 202);
    });
    EXPECT_EQ(listener.receive(60s), Said("quiet", "still there?"));
    EXPECT_GT(seconds_since(start), 44.0);
    EXPECT_EQ(listener.close().code, 1000);
}

// ---------------------------------------------------------------------------------------------
// Several processes on one Redis.

/// A free loopback port (the kernel's pick, released at once).
std::uint16_t FreePort() {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof addr;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &size) != 0) {
        ::close(fd);
        throw std::runtime_error("no free port");
    }
    ::close(fd);
    return ntohs(addr.sin_port);
}

std::string ReadFile(const std::string& path) {
    std::ifstream in(path);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

/// How many times `needle` occurs in `text`.
int Count(std::string_view text, std::string_view needle) {
    int n = 0;
    for (std::size_t at = text.find(needle); at != std::string_view::npos;
         at = text.find(needle, at + needle.size())) {
        ++n;
    }
    return n;
}

/// A blocking hiredis connection, to ask Redis what it knows.
class RedisClient {
public:
    explicit RedisClient(std::uint16_t port)
        : context_(redisConnectWithTimeout("127.0.0.1", port, {2, 0})) {}
    ~RedisClient() {
        if (context_ != nullptr) {
            redisFree(context_);
        }
    }
    RedisClient(const RedisClient&) = delete;
    RedisClient& operator=(const RedisClient&) = delete;

    /// PUBSUB NUMSUB: how many connections (processes) subscribe to `channel`; -1 on failure.
    long long Subscribers(const std::string& channel) {
        if (context_ == nullptr || context_->err != 0) {
            return -1;
        }
        auto* reply =
            static_cast<redisReply*>(redisCommand(context_, "PUBSUB NUMSUB %s", channel.c_str()));
        long long n = -1;
        if (reply != nullptr && reply->type == REDIS_REPLY_ARRAY && reply->elements == 2 &&
            reply->element[1]->type == REDIS_REPLY_INTEGER) {
            n = reply->element[1]->integer;
        }
        freeReplyObject(reply);
        return n;
    }

private:
    redisContext* context_;
};

/// Waits until `processes` processes subscribe to room `room` on the Redis at `port`.
bool WaitForSubscribers(std::uint16_t port,
                        std::string_view room,
                        long long processes,
                        std::chrono::milliseconds timeout = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        RedisClient redis(port);
        if (redis.Subscribers("room:" + std::string(room)) == processes) {
            return true;
        }
        std::this_thread::sleep_for(50ms);
    }
    return false;
}

/// The Redis of the ctest fixture.
std::uint16_t FixtureRedisPort() {
    std::ifstream in(std::string(FLAMECPP_REDIS_DIR) + "/port");
    unsigned port = 0;
    in >> port;
    return static_cast<std::uint16_t>(port);
}

/// A redis-server of the test's own, to stop and start again on the same port.
class OwnRedis {
public:
    OwnRedis() : port_(FreePort()) {}

    void Start() {
        process_.emplace(
            FLAMECPP_REDIS_SERVER,
            std::vector<std::string>{"--port", std::to_string(port_), "--bind", "127.0.0.1",
                                     "--save", "", "--appendonly", "no", "--logfile", "/dev/null"});
        const auto deadline = std::chrono::steady_clock::now() + 10s;
        while (std::chrono::steady_clock::now() < deadline) {
            RedisClient redis(port_);
            if (redis.Subscribers("warm-up") == 0) {
                return;
            }
            std::this_thread::sleep_for(50ms);
        }
        throw std::runtime_error("redis-server did not start on port " + std::to_string(port_));
    }

    /// Gone at once, as a crash: no goodbye to its clients beyond the kernel's.
    void Kill() {
        if (process_) {
            process_->stop(SIGKILL);
            process_.reset();
        }
    }

    std::uint16_t port() const { return port_; }

private:
    std::uint16_t port_;
    std::optional<SampleProcess> process_;
};

std::string Url(std::uint16_t redis_port) {
    return "redis://127.0.0.1:" + std::to_string(redis_port);
}

SampleProcess StartRoom(std::uint16_t redis_port, const std::string& stderr_path = {}) {
    SpawnOptions options;
    options.stderr_path = stderr_path;
    return SampleProcess::start(FLAMECPP_SAMPLE_ROOM,
                                {"--threads", "2", "--broadcast", Url(redis_port)}, options);
}

std::string LogPath(std::string_view name) {
    return ::testing::TempDir() + "room_" + std::string(name) + "_" + std::to_string(::getpid()) +
           ".log";
}

TEST(RoomRedis, TwoProcessesShareARoomAndOnlyThatRoom) {
    const std::uint16_t redis = FixtureRedisPort();
    ASSERT_NE(redis, 0) << "no Redis from the fixture in " FLAMECPP_REDIS_DIR;
    SampleProcess p1 = StartRoom(redis);
    SampleProcess p2 = StartRoom(redis);
    WsClient a = Join(p1.port(), "shared-x");
    WsClient b = Join(p2.port(), "shared-x");
    WsClient c = Join(p2.port(), "shared-y");
    ASSERT_TRUE(WaitForSubscribers(redis, "shared-x", 2));
    ASSERT_TRUE(WaitForSubscribers(redis, "shared-y", 1));

    a.send_text("hi");
    EXPECT_EQ(a.receive(1s), Said("shared-x", "hi"));
    EXPECT_EQ(b.receive(1s), Said("shared-x", "hi")) << "across processes, within 1 s";
    b.send_text("back");
    EXPECT_EQ(a.receive(1s), Said("shared-x", "back"));
    EXPECT_EQ(b.receive(1s), Said("shared-x", "back")) << "its own message once, not twice";
    EXPECT_EQ(PostMessage(p1.port(), "shared-y", "posted"), 202);
    EXPECT_EQ(c.receive(1s), Said("shared-y", "posted")) << "and nothing of room x before it";
    // Each process counts its own clients.
    EXPECT_EQ(RoomInfo(p1.port(), "shared-x"), ClientsJson("shared-x", 1));
    EXPECT_EQ(RoomInfo(p2.port(), "shared-x"), ClientsJson("shared-x", 1));
    EXPECT_EQ(RoomInfo(p1.port(), "shared-y"), ClientsJson("shared-y", 0));

    // The last client of a room on a process gone: that process leaves the Redis channel.
    EXPECT_EQ(c.close().code, 1000);
    EXPECT_TRUE(WaitForSubscribers(redis, "shared-y", 0));
    EXPECT_EQ(a.close().code, 1000);
    EXPECT_EQ(b.close().code, 1000);
    EXPECT_EQ(p1.stop(SIGTERM), 0);
    EXPECT_EQ(p2.stop(SIGTERM), 0);
}

TEST(RoomRedis, MessagesFromOneSenderArriveInOrderOnTheOtherProcess) {
    const std::uint16_t redis = FixtureRedisPort();
    ASSERT_NE(redis, 0);
    SampleProcess p1 = StartRoom(redis);
    SampleProcess p2 = StartRoom(redis);
    WsClient sender = Join(p1.port(), "ordered");
    WsClient listener = Join(p2.port(), "ordered");
    ASSERT_TRUE(WaitForSubscribers(redis, "ordered", 2));
    for (int i = 0; i < 500; ++i) {
        sender.send_text(std::to_string(i));
    }
    for (int i = 0; i < 500; ++i) {
        ASSERT_EQ(listener.receive(2s), Said("ordered", std::to_string(i)));
    }
}

TEST(RoomRedis, LaggingConsumerOnOneProcessDoesNotHoldBackTheOthers) {
    const std::uint16_t redis = FixtureRedisPort();
    ASSERT_NE(redis, 0);
    SampleProcess p1 = StartRoom(redis);
    SampleProcess p2 = StartRoom(redis);
    RawWebSocket stalled(p2.port(), "/ws/slow");
    WsClient near = Join(p2.port(), "slow");
    WsClient far = Join(p1.port(), "slow");
    ASSERT_TRUE(WaitForSubscribers(redis, "slow", 2));
    ASSERT_TRUE(WaitForClients(p2.port(), "slow", 2));
    const std::string big(60 * 1024, 'y');
    constexpr int kMessages = 300;
    std::jthread send([&] { PostMessages(p1.port(), "slow", big, kMessages); });
    for (int i = 0; i < kMessages; ++i) {
        ASSERT_EQ(near.receive(5s), Said("slow", std::to_string(i) + big)) << "message " << i;
        ASSERT_EQ(far.receive(5s), Said("slow", std::to_string(i) + big)) << "message " << i;
    }
    EXPECT_EQ(stalled.read_close_code(10s), 1008);
}

TEST(RoomRedis, RedisGoingAwayKeepsLocalDeliveryWarnsOnceAndRecovers) {
    OwnRedis redis;
    redis.Start();
    const std::string log = LogPath("outage");
    SampleProcess p1 = StartRoom(redis.port(), log);
    SampleProcess p2 = StartRoom(redis.port());
    WsClient a = Join(p1.port(), "outage");
    WsClient b = Join(p1.port(), "outage");
    WsClient c = Join(p2.port(), "outage");
    ASSERT_TRUE(WaitForSubscribers(redis.port(), "outage", 2));
    a.send_text("before");
    EXPECT_EQ(b.receive(1s), Said("outage", "before"));
    EXPECT_EQ(c.receive(1s), Said("outage", "before"));
    EXPECT_EQ(a.receive(1s), Said("outage", "before"));

    redis.Kill();
    // Same process: at once, whatever Redis does. Several messages, as the connections fail
    // and retry meanwhile.
    for (int i = 0; i < 10; ++i) {
        a.send_text("during " + std::to_string(i));
        EXPECT_EQ(b.receive(1s), Said("outage", "during " + std::to_string(i)));
        EXPECT_EQ(a.receive(1s), Said("outage", "during " + std::to_string(i)));
        std::this_thread::sleep_for(300ms);
    }
    EXPECT_EQ(http_get(p1.port(), "/rooms/outage", kIo).status, 200) << "the loop is not blocked";
    EXPECT_EQ(Count(ReadFile(log), "unreachable"), 1) << ReadFile(log);

    redis.Start();
    // Retries are at most 5 s apart: back within that (and a margin for slow builds).
    const auto back = std::chrono::steady_clock::now();
    ASSERT_TRUE(WaitForSubscribers(redis.port(), "outage", 2, 15s));
    while (Count(ReadFile(log), "reachable again") == 0 &&
           std::chrono::steady_clock::now() - back < 15s) {
        std::this_thread::sleep_for(50ms);
    }
    ASSERT_EQ(Count(ReadFile(log), "reachable again"), 1) << ReadFile(log);
    EXPECT_LT(seconds_since(back), 8.0);
    EXPECT_EQ(Count(ReadFile(log), "unreachable"), 1) << "one warning per outage";

    // Later messages reach the other process again; the ones of the outage never will.
    a.send_text("after");
    EXPECT_EQ(c.receive(1s), Said("outage", "after"));
    EXPECT_EQ(b.receive(1s), Said("outage", "after"));
    c.send_text("and back");
    EXPECT_EQ(a.receive(1s), Said("outage", "after"));
    EXPECT_EQ(a.receive(1s), Said("outage", "and back"));
    EXPECT_TRUE(p1.running());
    EXPECT_TRUE(p2.running());
    for (WsClient* client : {&a, &b, &c}) {
        EXPECT_EQ(client->close().code, 1000);
    }
    EXPECT_EQ(p1.stop(SIGTERM), 0);
    EXPECT_EQ(p2.stop(SIGTERM), 0);
}

TEST(RoomRedis, UnreachableAtStartupStartsWarnsAndKeepsTrying) {
    OwnRedis redis;  // not started yet
    const std::string log = LogPath("startup");
    SampleProcess p1 = StartRoom(redis.port(), log);  // throws unless it listens
    WsClient a = Join(p1.port(), "late");
    WsClient b = Join(p1.port(), "late");
    ASSERT_TRUE(WaitForClients(p1.port(), "late", 2));
    a.send_text("local");
    EXPECT_EQ(b.receive(1s), Said("late", "local"));
    EXPECT_EQ(Count(ReadFile(log), "unreachable"), 1) << ReadFile(log);

    redis.Start();
    SampleProcess p2 = StartRoom(redis.port());
    WsClient c = Join(p2.port(), "late");
    ASSERT_TRUE(WaitForSubscribers(redis.port(), "late", 2, 15s));
    const auto start = std::chrono::steady_clock::now();
    while (Count(ReadFile(log), "reachable again") == 0 &&
           std::chrono::steady_clock::now() - start < 15s) {
        std::this_thread::sleep_for(50ms);
    }
    ASSERT_EQ(Count(ReadFile(log), "reachable again"), 1) << ReadFile(log);
    a.send_text("remote");
    EXPECT_EQ(c.receive(1s), Said("late", "remote"));
    EXPECT_EQ(Count(ReadFile(log), "unreachable"), 1) << "one warning per outage";
}

// ---------------------------------------------------------------------------------------------
// Two processes behind nginx, configured as docs/deployment.md shows.

/// nginx in the foreground on a free port, proxying HTTP and WebSocket upgrades to `backends`.
class Nginx {
public:
    explicit Nginx(const std::vector<std::uint16_t>& backends) : port_(FreePort()) {
        dir_ = ::testing::TempDir() + "room_nginx_" + std::to_string(::getpid()) + "_" +
               std::to_string(port_);
        std::filesystem::create_directories(dir_);
        std::string upstream;
        for (std::uint16_t backend : backends) {
            upstream += "        server 127.0.0.1:" + std::to_string(backend) + ";\n";
        }
        const std::string& d = dir_;
        std::ofstream(d + "/nginx.conf") << R"(worker_processes 1;
master_process off;
daemon off;
pid )" << d << R"(/nginx.pid;
error_log stderr error;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path )" << d << "; proxy_temp_path "
                                         << d << "; fastcgi_temp_path " << d << "; uwsgi_temp_path "
                                         << d << "; scgi_temp_path " << d << R"(;
    upstream rooms {
)" << upstream << R"(    }
    map $http_upgrade $connection_upgrade {
        default upgrade;
        ''      close;
    }
    server {
        listen 127.0.0.1:)" << port_ << R"(;
        location / {
            proxy_pass http://rooms;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_read_timeout 75s;
        }
    }
}
)";
        process_.emplace(FLAMECPP_NGINX, std::vector<std::string>{"-e", "stderr", "-p", d, "-c",
                                                                  d + "/nginx.conf"});
        const auto deadline = std::chrono::steady_clock::now() + 10s;
        while (std::chrono::steady_clock::now() < deadline) {
            try {
                RawConnection probe(port_, 200ms);
                return;
            } catch (const std::exception&) {
                std::this_thread::sleep_for(50ms);
            }
        }
        throw std::runtime_error("nginx did not listen on port " + std::to_string(port_));
    }
    ~Nginx() {
        if (process_) {
            process_->stop(SIGQUIT);
        }
        std::error_code ignored;
        std::filesystem::remove_all(dir_, ignored);
    }
    Nginx(const Nginx&) = delete;
    Nginx& operator=(const Nginx&) = delete;

    std::uint16_t port() const { return port_; }

private:
    std::uint16_t port_;
    std::string dir_;
    std::optional<SampleProcess> process_;
};

TEST(RoomNginx, ClientsOnDifferentProcessesBehindNginxShareARoom) {
    const std::uint16_t redis = FixtureRedisPort();
    ASSERT_NE(redis, 0);
    SampleProcess p1 = StartRoom(redis);
    SampleProcess p2 = StartRoom(redis);
    Nginx nginx({p1.port(), p2.port()});
    const Response page = http_get(nginx.port(), "/", kIo);
    EXPECT_EQ(page.status, 200);
    EXPECT_NE(page.body.find("new WebSocket("), std::string::npos);

    // nginx takes the upstreams in turn: four clients land two on each process.
    std::vector<WsClient> clients;
    for (int i = 0; i < 4; ++i) {
        clients.push_back(Join(nginx.port(), "behind-nginx"));
    }
    ASSERT_TRUE(WaitForSubscribers(redis, "behind-nginx", 2));
    ASSERT_TRUE(WaitForClients(p1.port(), "behind-nginx", 2))
        << RoomInfo(p1.port(), "behind-nginx");
    ASSERT_TRUE(WaitForClients(p2.port(), "behind-nginx", 2))
        << RoomInfo(p2.port(), "behind-nginx");

    for (std::size_t from = 0; from < clients.size(); ++from) {
        const std::string text = "from client " + std::to_string(from);
        clients[from].send_text(text);
        for (WsClient& client : clients) {
            EXPECT_EQ(client.receive(1s), Said("behind-nginx", text));
        }
    }
    EXPECT_EQ(PostMessage(nginx.port(), "behind-nginx", "posted through nginx"), 202);
    for (WsClient& client : clients) {
        EXPECT_EQ(client.receive(1s), Said("behind-nginx", "posted through nginx"));
    }
    for (WsClient& client : clients) {
        EXPECT_EQ(client.close().code, 1000);
    }
}

#ifdef FLAMECPP_FANOUT_LOAD
// "1 sender, 1,000 listeners in one room, over 2 processes: every message reaches every
// listener." bench/tools/fanout_load checks each listener's sequence of messages.
TEST(RoomRedis, OneSenderAThousandListenersOverTwoProcessesGetEveryMessage) {
    const std::uint16_t redis = FixtureRedisPort();
    ASSERT_NE(redis, 0);
    SampleProcess p1 = StartRoom(redis);
    SampleProcess p2 = StartRoom(redis);
    const RunResult r = SampleProcess::run_to_exit(
        FLAMECPP_FANOUT_LOAD,
        {"--ports", std::to_string(p1.port()) + "," + std::to_string(p2.port()), "--room",
         "thousand", "--listeners", "1000", "--messages", "100", "--rate", "50"},
        60s);
    EXPECT_EQ(r.exit_code, 0) << r.stdout_text << r.stderr_text;
    EXPECT_NE(r.stdout_text.find("delivered=100000 expected=100000 missing=0 disordered=0 "
                                 "failed=0"),
              std::string::npos)
        << r.stdout_text;
    EXPECT_TRUE(p1.running());
    EXPECT_TRUE(p2.running());
}
#endif

TEST(RoomRedis, BadBroadcastUrlIsAFlagError) {
    for (const char* url : {"redis://", "postgres://x", "redis://h:0", "redis://h/x", "nope"}) {
        const RunResult r = SampleProcess::run_to_exit(
            FLAMECPP_SAMPLE_ROOM, {"--port", "0", "--broadcast", url}, kExitWait);
        EXPECT_EQ(r.exit_code, 2) << url << ": " << r.stderr_text;
        EXPECT_NE(r.stderr_text.find("--broadcast"), std::string::npos) << r.stderr_text;
        EXPECT_EQ(r.stdout_text.find("listening on"), std::string::npos);
    }
}

}  // namespace
}  // namespace flamecpp::test
