// The app from the issue "sends to a departed client never finish", as a new user writes it
// from the docs: `/live` keeps each client's handle and loops on receive; POST /broadcast sends
// a text of `size` bytes to every live client, in one of four ways (`mode`):
//   await     co_await ws.send_text(...) in the POST handler, which answers when all are done
//   detached  boost::asio::co_spawn(executor, ..., detached) per client, answers at once
//   spawn     flamecpp::spawn(...) per client, answers at once
//   queue     ws.queue_text(...) per client, answers at once
// GET /stats tells how the sends ended and how many clients are live:
// {"started", "ok", "gone", "clients"}. POST /forever starts a
// detached coroutine that waits an hour and that nothing cancels. Used by
// test/integration/broadcast_process_test.cpp, which stops it with SIGINT.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/object.hpp>

#include <flamecpp/flamecpp.hpp>
#include <flamecpp/json.hpp>
#include <flamecpp/websocket.hpp>

namespace {

using flamecpp::Query;
using flamecpp::Task;
using flamecpp::WebSocket;

std::mutex clients_mutex;
std::vector<WebSocket> clients;

std::atomic<int> started{0};
std::atomic<int> ok{0};
std::atomic<int> gone{0};

std::vector<WebSocket> all_clients() {
    std::lock_guard lock(clients_mutex);
    return clients;
}

Task<void> live(WebSocket& ws) {
    co_await ws.accept();
    {
        std::lock_guard lock(clients_mutex);
        clients.push_back(ws);
    }
    try {
        for (;;) {
            co_await ws.receive();
        }
    } catch (const flamecpp::WebSocketDisconnect&) {
    }
    std::lock_guard lock(clients_mutex);
    std::erase(clients, ws);
}

Task<void> send_one(WebSocket ws, std::string text) {
    ++started;
    try {
        co_await ws.send_text(std::move(text));
        ++ok;
    } catch (const flamecpp::WebSocketDisconnect&) {
        ++gone;
    }
}

Task<boost::json::value> broadcast(Query<"mode"> mode, Query<"size", int, 1024> size) {
    const std::string text(static_cast<std::size_t>(*size), 'x');
    boost::json::object answer;
    if (*mode == "await") {
        for (WebSocket& ws : all_clients()) {
            co_await send_one(ws, text);
        }
    } else if (*mode == "detached") {
        const auto executor = co_await boost::asio::this_coro::executor;
        for (WebSocket& ws : all_clients()) {
            boost::asio::co_spawn(executor, send_one(ws, text), boost::asio::detached);
        }
    } else if (*mode == "spawn") {
        for (WebSocket& ws : all_clients()) {
            flamecpp::spawn(send_one(ws, text));
        }
    } else if (*mode == "queue") {
        int queued = 0;
        for (WebSocket& ws : all_clients()) {
            queued += ws.queue_text(text) ? 1 : 0;
        }
        answer["queued"] = queued;
    } else {
        throw flamecpp::HTTPException(flamecpp::Status::bad_request,
                                      "mode is await, detached, spawn or queue");
    }
    answer["clients"] = all_clients().size();
    co_return answer;
}

Task<void> wait_an_hour() {
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor,
                                    std::chrono::hours(1));
    co_await timer.async_wait(boost::asio::use_awaitable);
}

Task<flamecpp::Response> forever() {
    boost::asio::co_spawn(co_await boost::asio::this_coro::executor, wait_an_hour(),
                          boost::asio::detached);
    co_return flamecpp::Response::text("waiting");
}

boost::json::value stats() {
    return boost::json::object{{"started", started.load()},
                               {"ok", ok.load()},
                               {"gone", gone.load()},
                               {"clients", static_cast<std::int64_t>(all_clients().size())}};
}

}  // namespace

int main(int argc, char** argv) {
    flamecpp::App app;
    app.websocket_route("/live", live);
    app.route("/broadcast", broadcast, {flamecpp::Method::post});
    app.route("/stats", stats);
    app.route("/forever", forever, {flamecpp::Method::post});
    // Short enough for a test: a client that does not answer our close is cut after 1 s, and
    // the shutdown waits at most 3 s.
    app.limits().websocket_close_timeout = std::chrono::seconds(1);
    app.limits().shutdown_grace = std::chrono::seconds(3);
    return app.run(argc, argv);
}
