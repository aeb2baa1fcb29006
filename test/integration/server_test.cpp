// A real Server on 127.0.0.1, port 0, in this process: called through TestClient, and with raw
// bytes where a test needs what the client would never send.
#include <atomic>
#include <chrono>
#include <functional>
#include <stdexcept>
#include <thread>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include <flamecpp/app.hpp>
#include <flamecpp/flamecpp.hpp>
#include <flamecpp/json.hpp>
#include <flamecpp/testing.hpp>

#include "http_client.hpp"
#include "quiet_options.hpp"

namespace flamecpp {
namespace {

using namespace std::chrono_literals;
using test::make_request;
using test::RawConnection;

ServerOptions quiet_options() { return test::quiet_options(1); }

Response boom() { throw std::runtime_error("boom"); }
Response teapot() { throw HTTPException(Status{418}, "short and stout"); }
Response bad_header() { return Response::text("x").with_header("X-Bad", "a\r\nInjected: 1"); }
Response echo_body(Request& r) { return Response::text(std::string(r.body())); }
Response query(Request& r) { return Response::text(r.query("q").value_or("<none>")); }
Response moved() { return Response::redirect("/elsewhere", Status::permanent_redirect); }

Task<Response> slow() {
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
    timer.expires_after(std::chrono::milliseconds(300));
    co_await timer.async_wait(boost::asio::use_awaitable);
    co_return Response::text("slow done");
}

Task<void> count_to_three(BodyWriter& out) {
    for (int i = 1; i <= 3; ++i) {
        std::string line = std::to_string(i) + "\n";
        co_await out.write(line);
    }
}
Response streamed() { return Response::stream(count_to_three, "text/plain"); }

// More than loopback's socket buffers hold while the client does not read (tcp_wmem and the
// initial tcp_rmem are 4 MiB and 128 KiB by default): the first send(2) takes part of it.
constexpr std::size_t kBigBody = 16 * 1024 * 1024;

std::string big_body() {
    std::string body(kBigBody, '\0');
    for (std::size_t i = 0; i < body.size(); ++i) {
        body[i] = static_cast<char>('a' + (i * 31 + i / 4096) % 26);
    }
    return body;
}
Response big() { return Response::text(big_body()); }

struct Catchall : HTTPEndpoint {
    std::string get() { return "caught " + std::string(request().raw_path()); }
};

App make_app() {
    App app;
    app.route("/boom", boom);
    app.route("/teapot", teapot);
    app.route("/bad-header", bad_header);
    app.route("/echo", echo_body, {Method::post});
    app.route("/query", query);
    app.route("/moved", moved);
    app.route("/slow", slow);
    app.route("/stream", streamed);
    app.route("/big", big);
    app.limits().max_body_bytes = 64;
    return app;
}

testing::ClientOptions client_options(bool raise) {
    testing::ClientOptions o;
    o.log_level = LogLevel::off;
    o.raise_server_exceptions = raise;
    return o;
}

/// The app served by a TestClient that lets the test see 500s (raising is tested apart).
class ServerTest : public ::testing::Test {
protected:
    testing::TestClient client{make_app(), client_options(false)};
    std::uint16_t port() const { return client.port(); }
};

TEST_F(ServerTest, HandlerExceptionIs500AndConnectionGoesOn) {
    auto r = client.get("/boom");
    EXPECT_EQ(r.status, 500);
    EXPECT_EQ(r.text(), "Internal Server Error");
    EXPECT_EQ(r.header("Connection"), std::nullopt);  // kept alive
    EXPECT_EQ(client.get("/query?q=still").text(), "still");
}

TEST(ServerErrors, HandlerExceptionReachesTheObserver) {
    testing::TestClient client(make_app(), client_options(true));
    EXPECT_THROW(client.get("/boom"), std::runtime_error);
    EXPECT_THROW(client.get("/bad-header"), std::invalid_argument);
    EXPECT_EQ(client.get("/teapot").status, 418);  // an answer, not an error
}

TEST_F(ServerTest, HTTPExceptionBecomesJsonDetail) {
    auto r = client.get("/teapot");
    EXPECT_EQ(r.status, 418);
    EXPECT_EQ(r.header("Content-Type"), "application/json");
    EXPECT_EQ(r.text(), R"({"detail":"short and stout"})");
}

TEST_F(ServerTest, HeaderInjectionFromHandlerIs500) {
    auto r = client.get("/bad-header");
    EXPECT_EQ(r.status, 500);
    EXPECT_FALSE(r.header("Injected").has_value());
}

TEST_F(ServerTest, QueryParametersAreDecoded) {
    EXPECT_EQ(client.get("/query?q=a+b%21&x=1").text(), "a b!");
    EXPECT_EQ(client.get("/query", {.query = {{"q", "a&b=c"}}}).text(), "a&b=c");
    EXPECT_EQ(client.get("/query?x=1").text(), "<none>");
}

TEST_F(ServerTest, RedirectCarriesLocation) {
    auto r = client.get("/moved");
    EXPECT_EQ(r.status, 308);
    EXPECT_EQ(r.header("Location"), "/elsewhere");
}

TEST_F(ServerTest, StreamedBodyIsChunked) {
    auto r = client.get("/stream");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.header("Transfer-Encoding"), "chunked");
    EXPECT_EQ(r.text(), "1\n2\n3\n");
    EXPECT_EQ(client.get("/query?q=after").text(), "after");  // framing intact afterwards
}

// The server writes a response with one non-blocking send and waits for the socket only for
// what the kernel did not take: the rest must follow whole, and the pipelined answer after it.
TEST_F(ServerTest, ResponseLargerThanTheSocketBuffersArrivesWholeAndInOrder) {
    RawConnection c(port());
    c.send("GET /big HTTP/1.1\r\nHost: x\r\n\r\nGET /query?q=after HTTP/1.1\r\nHost: x\r\n\r\n");
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the server's send fills up
    auto first = c.read_response(std::chrono::seconds(20));
    EXPECT_EQ(first.status, 200);
    ASSERT_EQ(first.body.size(), kBigBody);
    EXPECT_TRUE(first.body == big_body()) << "the body differs from what the handler returned";
    EXPECT_EQ(c.read_response().body, "after");
}

TEST_F(ServerTest, ChunkedRequestBodyIsDechunked) {
    // Raw bytes: the test client always sends a Content-Length.
    RawConnection c(port());
    c.send(
        "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n");
    EXPECT_EQ(c.read_response().body, "abcde");
}

// Found by fuzz_http_request: trailer fields were stored with the headers, and the storage
// they grew moved under the request's path (a use-after-free under ASan).
TEST_F(ServerTest, TrailerFieldsAreDiscardedAndLeaveTheRequestIntact) {
    RawConnection c(port());
    const std::string trailer = "X-Trailer-One: " + std::string(300, 'a') + "\r\n" +
                                "X-Trailer-Two: " + std::string(300, 'b') + "\r\n";
    c.send(
        "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        "3\r\nabc\r\n2\r\nde\r\n0\r\n" +
        trailer + "\r\n");
    const auto first = c.read_response();
    EXPECT_EQ(first.status, 200);
    EXPECT_EQ(first.body, "abcde");
    c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nok");
    EXPECT_EQ(c.read_response().body, "ok") << "the connection's framing survived the trailer";
}

// RFC 9110 10.1.1: the client waits for 100 Continue before its body; without it, a client
// like curl stalls for a second and older ones until they give up.
TEST_F(ServerTest, ExpectContinueGets100BeforeTheBodyIsSent) {
    RawConnection c(port());
    c.send("POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
    const auto interim = c.read_response(1000ms);
    EXPECT_EQ(interim.status, 100);
    c.send("hello");
    const auto final_answer = c.read_response();
    EXPECT_EQ(final_answer.status, 200);
    EXPECT_EQ(final_answer.body, "hello");
    // The next request on the connection has no Expect: no 100 for it.
    c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nok");
    EXPECT_EQ(c.read_response().body, "ok");
}

// RFC 9112 3.2.2: a server MUST accept the absolute form.
TEST_F(ServerTest, AbsoluteFormTargetIsRoutedByItsPath) {
    RawConnection c(port());
    c.send("GET http://127.0.0.1:" + std::to_string(port()) +
           "/query?q=caf%C3%A9 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    const auto r = c.read_response();
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "café");
}

// RFC 9112 3.2.
TEST_F(ServerTest, Http11WithoutHostOrWithTwoIs400AndClosed) {
    for (const char* head :
         {"GET /query HTTP/1.1\r\n\r\n", "GET /query HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"}) {
        RawConnection c(port());
        c.send(head);
        const auto r = c.read_response();
        EXPECT_EQ(r.status, 400) << head;
        EXPECT_TRUE(c.wait_closed(3000ms)) << head;
    }
    RawConnection old(port());
    old.send("GET /query HTTP/1.0\r\n\r\n");
    EXPECT_EQ(old.read_response().status, 200) << "HTTP/1.0 needs no Host";
}

TEST_F(ServerTest, PerAppBodyLimitApplies) {
    auto r = client.post("/echo", {.body = std::string(65, 'x')});
    EXPECT_EQ(r.status, 413);
    EXPECT_EQ(r.header("Connection"), "close");
    EXPECT_EQ(client.post("/echo", {.body = std::string(64, 'x')}).status, 200);
}

TEST_F(ServerTest, OptionsIsAnsweredFromTheRouteTable) {
    auto r = client.options("/echo");
    EXPECT_EQ(r.status, 204);
    EXPECT_EQ(r.header("Allow"), "POST");
}

TEST_F(ServerTest, UnknownMethodOnKnownPathIs405) {
    auto r = client.request("PROPFIND", "/echo");
    EXPECT_EQ(r.status, 405);
    EXPECT_EQ(r.header("Allow"), "POST");
}

Task<Response> stuck() {
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
    timer.expires_after(std::chrono::minutes(10));
    co_await timer.async_wait(boost::asio::use_awaitable);
    co_return Response::text("never");
}

// A handler still running a second after the grace period: the worker's loop stops and the
// suspended session is destroyed with the server, its destructor still reaching a live worker.
TEST(ServerStop, HandlerOutlastingTheGracePeriodIsAbandonedCleanly) {
    App app = make_app();
    app.route("/stuck", stuck);
    app.limits().shutdown_grace = std::chrono::milliseconds(100);
    {
        Server server(app, quiet_options());
        RawConnection busy(server.port());
        busy.send(make_request("GET", "/stuck"));
        RawConnection idle(server.port());
        idle.send(make_request("GET", "/query?q=1"));
        ASSERT_EQ(idle.read_response().status, 200);
        std::this_thread::sleep_for(std::chrono::milliseconds(50));  // let /stuck start
        const auto stop_at = std::chrono::steady_clock::now();
        server.stop();
        server.wait();
        EXPECT_LT(std::chrono::steady_clock::now() - stop_at, std::chrono::seconds(5));
    }  // the server, its workers and the abandoned session go here
}

TEST(ServerStop, GracefulStopFinishesInFlightRequest) {
    App app = make_app();
    Server server(app, quiet_options());
    RawConnection busy(server.port());
    busy.send(make_request("GET", "/slow"));
    RawConnection idle(server.port());
    idle.send(make_request("GET", "/query?q=1"));
    ASSERT_EQ(idle.read_response().status, 200);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // let /slow start
    server.stop();
    auto r = busy.read_response();
    EXPECT_EQ(r.body, "slow done");
    EXPECT_EQ(r.header("Connection"), "close");
    EXPECT_TRUE(idle.wait_closed(std::chrono::seconds(5)));
    server.wait();
}

// Between requests and at a request's first byte, deadlines restart at the reaper's next
// sweep. A handler that outlasts the header and idle timeouts must keep its connection, and
// the idleness after it is still timed.
TEST(ServerDeadlines, HandlerOutlastingTheTimeoutsKeepsItsConnectionThenIdles) {
    using namespace std::chrono_literals;
    App app = make_app();
    app.limits().header_timeout = 100ms;
    app.limits().idle_timeout = 150ms;
    Server server(app, quiet_options());
    RawConnection c(server.port());
    for (int i = 0; i < 2; ++i) {
        c.send(make_request("GET", "/slow"));  // 300 ms: twice the timeouts, over a sweep
        auto r = c.read_response();
        EXPECT_EQ(r.status, 200) << i;
        EXPECT_EQ(r.body, "slow done") << i;
    }
    const auto since = std::chrono::steady_clock::now();
    EXPECT_TRUE(c.wait_closed(std::chrono::seconds(3)));
    const auto idle = std::chrono::steady_clock::now() - since;
    EXPECT_GE(idle, 100ms);
    EXPECT_EQ(c.pending(), "") << "an idle connection got bytes";
}

TEST(Server, PortInUseIsAClearStartupError) {
    App app;
    app.route("/boom", boom);
    Server first(app, quiet_options());
    auto options = quiet_options();
    options.port = first.port();
    try {
        Server second(app, options);
        FAIL() << "a second server bound a port in use";
    } catch (const std::runtime_error& e) {
        std::string what = e.what();
        EXPECT_NE(what.find("cannot listen on 127.0.0.1:" + std::to_string(first.port())),
                  std::string::npos)
            << what;
        EXPECT_NE(what.find("in use"), std::string::npos) << what;
    }
}

TEST(Server, EndpointServedAsWholeApp) {
    testing::TestClient client(App::of<Catchall>(), client_options(true));
    EXPECT_EQ(client.get("/").text(), "caught /");
    EXPECT_EQ(client.get("/any/path").text(), "caught /any/path");
}

TEST(Server, ManyThreadsServeConcurrently) {
    App app;
    app.route("/query", query);
    auto options = quiet_options();
    options.threads = 2;
    Server server(app, options);
    std::atomic<int> ok{0};
    std::vector<std::thread> clients;
    for (int t = 0; t < 4; ++t) {
        clients.emplace_back([&] {
            RawConnection c(server.port());
            for (int i = 0; i < 50; ++i) {
                c.send(make_request("GET", "/query?q=" + std::to_string(i)));
                if (c.read_response().body == std::to_string(i)) {
                    ++ok;
                }
            }
        });
    }
    for (auto& c : clients) c.join();
    EXPECT_EQ(ok.load(), 200);
}

}  // namespace
}  // namespace flamecpp
