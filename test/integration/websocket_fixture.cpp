// The app of the WebSocket integration tests (websocket_fixture.hpp): its function views and
// endpoint classes, what they write to the journal, and the helpers the tests share.
#include "websocket_fixture.hpp"

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <exception>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <boost/system/error_code.hpp>
#include <gtest/gtest.h>

#include <flamecpp/app.hpp>
#include <flamecpp/flamecpp.hpp>
#include <flamecpp/json.hpp>
#include <flamecpp/websocket.hpp>

#include "journal.hpp"
#include "ws_client.hpp"

namespace flamecpp::wstest {

// ---------------------------------------------------------------------------------------------
// What the tests share.

test::Journal& journal() {
    static test::Journal instance;
    return instance;
}

std::string burst_message(char tag, int i, std::size_t size) {
    std::string head = std::string(1, tag) + std::to_string(i) + ":";
    return head + std::string(size - head.size(), tag);
}

namespace {

// The relay's registry (find_peer, clear_relay_registry).
std::mutex registry_mutex;
std::map<std::string, WebSocket> registry;

}  // namespace

std::optional<WebSocket> find_peer(const std::string& name) {
    std::lock_guard lock(registry_mutex);
    auto it = registry.find(name);
    if (it == registry.end())
        return std::nullopt;
    return it->second;
}

void clear_relay_registry() {
    std::lock_guard lock(registry_mutex);
    registry.clear();
}

// ---------------------------------------------------------------------------------------------
// Journal keys and values: a connection's ?id=, close codes as text.

namespace {

std::string code_text(Code code) { return std::to_string(static_cast<int>(code)); }

std::string id_of(const Request& request) { return request.query("id").value_or("?"); }

// ---------------------------------------------------------------------------------------------
// Function views.

// Takes Data: called once per message after the framework accepted; echoes the frame type.
Task<void> echo(WebSocket& ws, Data data) {
    if (data.is_binary()) {
        co_await ws.send_bytes(std::move(data).str());
    } else {
        co_await ws.send_text(std::move(data).str());
    }
}

// Registered with Encoding::text, ::bytes and ::json.
Task<void> fn_text(WebSocket& ws, Data data) {
    co_await ws.send_text("text: " + std::move(data).str());
}

Task<void> fn_bytes(WebSocket& ws, Data data) {
    co_await ws.send_bytes("bytes: " + std::move(data).str());
}

Task<void> fn_json(WebSocket& ws, Data data) {
    boost::json::value reply = {{"got", data.json()}};
    co_await ws.send_json(reply);
}

// A plain (not coroutine) per-message view that throws.
void fn_throws(Data data) { throw std::runtime_error("fn_throws: " + data.str()); }

// Takes only WebSocket&: owns the conversation; the framework closes 1000 when it returns.
Task<void> own(WebSocket& ws) {
    co_await ws.accept();
    std::string text = co_await ws.receive_text();
    co_await ws.send_text("bye " + text);
}

// Owns the conversation but neither accepts nor closes.
Task<void> ignore(WebSocket&) { co_return; }

// Path and query parameters of the upgrade request, through the request and by injection.
Task<void> room(WebSocket& ws, Path<"n", int> n) {
    const Request& request = ws.request();
    std::string reply = std::string(request.path_param("room").value_or("<none>")) + "|" +
                        std::string(request.path_param("n").value_or("<none>")) + "|" +
                        std::to_string(*n + 1) + "|" + request.query("who").value_or("<none>") +
                        "|" + std::string(request.route());
    co_await ws.accept();
    co_await ws.send_text(reply);
}

// Loops on receive until WebSocketDisconnect, then receives once more; journals both codes.
Task<void> until_disconnect(WebSocket& ws) {
    const std::string id = id_of(ws.request());
    co_await ws.accept();
    std::string first = "no exception";
    std::string second = "no exception";
    try {
        for (;;) {
            Data data = co_await ws.receive();
            co_await ws.send_text("got " + data.str());
        }
    } catch (const WebSocketDisconnect& e) {
        first = code_text(e.code());
    }
    try {
        Data data = co_await ws.receive();
        second = "received " + data.str();
    } catch (const WebSocketDisconnect& e) {
        second = code_text(e.code());
    } catch (const std::exception& e) {
        second = std::string("other exception: ") + e.what();
    }
    journal().add("first:" + id, first);
    journal().add("second:" + id, second);
    journal().add("state:" + id, ws.state() == WebSocket::State::closed ? "closed" : "not closed");
}

// Every misuse in turn; what happened before the close goes to the client, the rest to the
// journal.
Task<void> misuse(WebSocket& ws) {
    std::string report;
    try {
        co_await ws.send_text("too early");
        report += "send-before-accept:no error;";
    } catch (const std::logic_error&) {
        report += "send-before-accept:logic_error;";
    } catch (const std::exception& e) {
        report += std::string("send-before-accept:") + e.what() + ";";
    }
    try {
        Data data = co_await ws.receive();
        report += "receive-before-accept:no error;";
    } catch (const std::logic_error&) {
        report += "receive-before-accept:logic_error;";
    } catch (const std::exception& e) {
        report += std::string("receive-before-accept:") + e.what() + ";";
    }
    report += std::string("state:") +
              (ws.state() == WebSocket::State::connecting ? "connecting" : "other") + ";";
    co_await ws.accept();
    try {
        co_await ws.accept();
        report += "accept-twice:no error;";
    } catch (const std::logic_error&) {
        report += "accept-twice:logic_error;";
    } catch (const std::exception& e) {
        report += std::string("accept-twice:") + e.what() + ";";
    }
    co_await ws.send_text(report);
    std::string go = co_await ws.receive_text();  // the client says when to close
    co_await ws.close(Code::normal, "misuse done");
    std::string after;
    try {
        co_await ws.send_text("too late");
        after = "no error";
    } catch (const WebSocketDisconnect& e) {
        after = "WebSocketDisconnect " + code_text(e.code());
    } catch (const std::exception& e) {
        after = std::string("other: ") + e.what();
    }
    journal().add("send-after-close", after);
    try {
        Data data = co_await ws.receive();
        after = "no error";
    } catch (const WebSocketDisconnect& e) {
        after = "WebSocketDisconnect " + code_text(e.code());
    } catch (const std::exception& e) {
        after = std::string("other: ") + e.what();
    }
    journal().add("receive-after-close", after);
    journal().add("close-code", ws.close_code() ? code_text(*ws.close_code()) : "none");
}

// Sends `count` messages tagged `tag` (text for 'A', binary for 'B'), burst_message(tag, i,
// size) in turn.
Task<void> send_many(WebSocket ws, char tag, int count, std::size_t size) {  // a copy of the handle
    for (int i = 0; i < count; ++i) {
        if (tag == 'A') {
            co_await ws.send_text(burst_message(tag, i, size));
        } else {
            co_await ws.send_bytes(burst_message(tag, i, size));
        }
    }
}

// Two tasks send at once on one connection; then "done". The client says "count" or
// "count size".
Task<void> burst(WebSocket& ws) {
    using namespace boost::asio::experimental::awaitable_operators;
    co_await ws.accept();
    const std::string request = co_await ws.receive_text();
    const int count = std::stoi(request);
    const auto space = request.find(' ');
    const std::size_t size =
        space == std::string::npos ? kBurstPayload : std::stoul(request.substr(space + 1));
    co_await (send_many(ws, 'A', count, size) && send_many(ws, 'B', count, size));
    co_await ws.send_text("done");
    co_await ws.receive();  // until the client closes
}

// A detached task sends ticks while the handler keeps receiving and echoing.
Task<void> ticker(WebSocket ws, int count) {
    try {
        boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
        for (int i = 0; i < count; ++i) {
            timer.expires_after(2ms);
            co_await timer.async_wait(boost::asio::use_awaitable);
            co_await ws.send_text("tick " + std::to_string(i));
        }
    } catch (const std::exception& e) {
        journal().add("ticker", e.what());
    }
}

Task<void> tick_and_echo(WebSocket& ws) {
    co_await ws.accept();
    boost::asio::co_spawn(co_await boost::asio::this_coro::executor, ticker(ws, 50),
                          boost::asio::detached);
    for (;;) {
        std::string text = co_await ws.receive_text();
        co_await ws.send_text("echo " + text);
    }
}

// Relay: each connection registers a copy of its handle under ?name= (the registry above) and
// forwards "to <name> <text>" to that connection, from whichever thread it runs on.
std::string thread_tag() {
    return std::to_string(std::hash<std::thread::id>{}(std::this_thread::get_id()));
}

Task<void> relay(WebSocket& ws) {
    const std::string name = ws.request().query("name").value_or("?");
    co_await ws.accept();
    {
        std::lock_guard lock(registry_mutex);
        registry.insert_or_assign(name, ws);
    }
    co_await ws.send_text("thread " + thread_tag());
    try {
        for (;;) {
            std::string line = co_await ws.receive_text();  // "to <name> <text>"
            const std::size_t space = line.find(' ', 3);
            const std::string target = line.substr(3, space - 3);
            const std::string text = line.substr(space + 1);
            std::optional<WebSocket> peer = find_peer(target);
            std::string result = "sent";
            if (!peer) {
                result = "no such peer";
            } else {
                try {
                    co_await peer->send_text(text);
                } catch (const WebSocketDisconnect&) {
                    result = "gone";
                }
            }
            co_await ws.send_text(result);
        }
    } catch (const WebSocketDisconnect& e) {
        journal().add("relay-ended:" + name, code_text(e.code()));
    }
}

// ---------------------------------------------------------------------------------------------
// WebSocketEndpoint classes. Each journals its close code under "disconnect:<id>".

struct Recording : WebSocketEndpoint {
    void on_disconnect(Code code) {
        journal().add("disconnect:" + id_of(request()), code_text(code));
    }
};

struct RawEcho : Recording {  // no encoding: text stays text, binary stays binary
    Task<void> on_receive(WebSocket& ws, Data data) {
        if (data.is_binary()) {
            co_await ws.send_bytes(std::move(data).str());
        } else {
            co_await ws.send_text(std::move(data).str());
        }
    }
};

struct TextEcho : Recording {
    static constexpr Encoding encoding = Encoding::text;
    Task<void> on_receive(WebSocket& ws, Data data) {
        co_await ws.send_text("text: " + std::move(data).str());
    }
};

struct BytesEcho : Recording {
    static constexpr Encoding encoding = Encoding::bytes;
    Task<void> on_receive(WebSocket& ws, Data data) {
        co_await ws.send_bytes("bytes: " + std::move(data).str());
    }
};

struct JsonEcho : Recording {
    static constexpr Encoding encoding = Encoding::json;
    Task<void> on_receive(WebSocket& ws, Data data) {
        boost::json::value reply = {{"got", data.json()}};
        co_await ws.send_json(reply);
    }
};

struct ThrowsOnReceive : Recording {
    void on_receive(Data data) { throw std::runtime_error("on_receive threw on " + data.str()); }
};

struct ThrowsOnConnect : Recording {
    void on_connect() { throw std::runtime_error("on_connect threw"); }
    void on_receive(Data) {}
};

struct RefusesOnConnect : Recording {
    Task<void> on_connect(WebSocket& ws) { co_await ws.close(); }
    void on_receive(Data) {}
};

struct IgnoresOnConnect : Recording {
    void on_connect() {}
    void on_receive(Data) {}
};

// Chooses "chat.v2" when offered, adds a header, then sends the offered list.
struct Subprotocols : Recording {
    Task<void> on_connect(WebSocket& ws) {
        const auto offered = ws.subprotocols();
        const bool has_v2 = std::find(offered.begin(), offered.end(), "chat.v2") != offered.end();
        std::string list;
        for (const auto& p : offered) list += (list.empty() ? "" : ",") + p;
        std::string chosen = has_v2 ? "chat.v2" : "";
        std::vector<std::pair<std::string, std::string>> headers = {
            {"X-Flamecpp-Test", "accepted"}};
        co_await ws.accept(std::move(chosen), std::move(headers));
        co_await ws.send_text("offered:" + list);
    }
    void on_receive(Data) {}
};

// Accepts with a subprotocol the client did not offer: a std::logic_error before accept.
struct BadSubprotocol : Recording {
    Task<void> on_connect(WebSocket& ws) { co_await ws.accept("never-offered"); }
    void on_receive(Data) {}
};

// Path and query parameters seen by an endpoint class.
struct Room : Recording {
    Task<void> on_connect(WebSocket& ws) {
        co_await ws.accept();
        co_await ws.send_text(std::string(request().path_param("room").value_or("<none>")) + "|" +
                              request().query("who").value_or("<none>"));
    }
    void on_receive(Data) {}
};

Response http_only() { return Response::text("plain HTTP"); }

}  // namespace

void add_routes(App& app) {
    app.route("/http-only", http_only);
    app.websocket_route("/echo", echo);
    app.websocket_route("/fn/text", fn_text, Encoding::text);
    app.websocket_route("/fn/bytes", fn_bytes, Encoding::bytes);
    app.websocket_route("/fn/json", fn_json, Encoding::json);
    app.websocket_route("/fn/throws", fn_throws);
    app.websocket_route("/fn/own", own);
    app.websocket_route("/fn/ignore", ignore);
    app.websocket_route("/fn/rooms/{room}/{n:int}", room);
    app.websocket_route("/fn/until-disconnect", until_disconnect);
    app.websocket_route("/fn/misuse", misuse);
    app.websocket_route("/fn/burst", burst);
    app.websocket_route("/fn/ticker", tick_and_echo);
    app.websocket_route("/fn/relay", relay);
    app.websocket_route<RawEcho>("/ep/raw");
    app.websocket_route<TextEcho>("/ep/text");
    app.websocket_route<BytesEcho>("/ep/bytes");
    app.websocket_route<JsonEcho>("/ep/json");
    app.websocket_route<ThrowsOnReceive>("/ep/throws");
    app.websocket_route<ThrowsOnConnect>("/ep/connect-throws");
    app.websocket_route<RefusesOnConnect>("/ep/refuses");
    app.websocket_route<IgnoresOnConnect>("/ep/ignores");
    app.websocket_route<Subprotocols>("/ep/subprotocols");
    app.websocket_route<BadSubprotocol>("/ep/bad-subprotocol");
    app.websocket_route<Room>("/ep/rooms/{room}");
}

void ExpectJsonText(const WsEvent& event, std::string_view expected) {
    const auto* message = std::get_if<WsMessage>(&event);
    ASSERT_NE(message, nullptr) << event;
    EXPECT_FALSE(message->binary) << "JSON goes out as a text message";
    boost::system::error_code ec;
    const boost::json::value got = boost::json::parse(message->data, ec);
    ASSERT_FALSE(ec) << "not JSON: " << message->data;
    EXPECT_EQ(got, boost::json::parse(expected)) << message->data;
}

}  // namespace flamecpp::wstest
