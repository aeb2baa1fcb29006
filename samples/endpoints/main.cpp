// endpoints: every endpoint form in one app (see docs/samples.md, `endpoints`).
#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>

#include <boost/describe/class.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <flamecpp/body.hpp>
#include <flamecpp/flamecpp.hpp>
#include <flamecpp/json.hpp>

using flamecpp::Body;
using flamecpp::Code;
using flamecpp::Data;
using flamecpp::Encoding;
using flamecpp::Path;
using flamecpp::Query;
using flamecpp::Task;
using flamecpp::WebSocket;

namespace {

// --- HTTP ------------------------------------------------------------------------------

boost::json::value foo() { return {{"message", "foo"}}; }

Task<boost::json::value> bar() { co_return boost::json::value{{"message", "bar"}}; }

struct FooBar : flamecpp::HTTPEndpoint {
    boost::json::value get() { return {{"message", "foo"}}; }
    Task<boost::json::value> post() { co_return boost::json::value{{"message", "bar"}}; }
};

boost::json::value user(Path<"user_id", int> user_id) { return {{"user_id", *user_id}}; }

boost::json::value file(Path<"rest"> rest) { return {{"path", *rest}}; }

/// Query parameters by name and type; `limit` defaults to 10, `limit=abc` is a 400.
boost::json::value search(Query<"q"> q, Query<"limit", int, 10> limit) {
    return {{"q", *q}, {"limit", *limit}};
}

/// A JSON body bound to a described struct: a field missing or of the wrong type is a 400.
struct NewItem {
    std::string name;
    double price;
};
BOOST_DESCRIBE_STRUCT(NewItem, (), (name, price))

struct Item {
    int id;
    std::string name;
    double price;
};
BOOST_DESCRIBE_STRUCT(Item, (), (id, name, price))

/// Item ids count up per process: one shared component, any thread.
struct ItemIds : flamecpp::Component {
    std::atomic<int> next{1};
};

flamecpp::Response create_item(Body<NewItem> item, ItemIds& ids) {
    Item created{ids.next++, std::move(item->name), item->price};
    return flamecpp::Response::json(boost::json::value_from(created), flamecpp::Status::created);
}

flamecpp::Response boom() { throw std::runtime_error("boom: this handler always throws"); }

// --- WebSocket -----------------------------------------------------------------------------

/// Called once per message (it takes Data): echoes it with the same frame type.
Task<void> echo(WebSocket& ws, Data data) {
    if (data.is_binary()) {
        co_await ws.send_bytes(std::move(data).str());
    } else {
        co_await ws.send_text(std::move(data).str());
    }
}

struct BytesEndpoint : flamecpp::WebSocketEndpoint {
    static constexpr Encoding encoding = Encoding::bytes;
    Task<void> on_receive(WebSocket& ws, Data data) {
        co_await ws.send_bytes("Message: " + std::move(data).str());
    }
};

struct TextEndpoint : flamecpp::WebSocketEndpoint {
    static constexpr Encoding encoding = Encoding::text;
    Task<void> on_receive(WebSocket& ws, Data data) {
        co_await ws.send_text("Message text was: " + std::move(data).str());
    }
};

struct JsonEndpoint : flamecpp::WebSocketEndpoint {
    static constexpr Encoding encoding = Encoding::json;
    Task<void> on_receive(WebSocket& ws, Data data) {
        boost::json::value reply = {{"message", data.json()}};
        co_await ws.send_json(reply);
    }
};

struct RawEndpoint : flamecpp::WebSocketEndpoint {
    Task<void> on_receive(WebSocket& ws, Data data) {
        if (data.is_binary()) {
            co_await ws.send_bytes("Message: " + std::move(data).str());
        } else {
            co_await ws.send_text("Message: " + std::move(data).str());
        }
    }
};

/// The code the last /ws/close client closed with; -1 before any. Connections run on
/// several threads, hence the atomic.
struct CloseLog : flamecpp::Component {
    std::atomic<int> last{-1};
};

struct CloseEndpoint : flamecpp::WebSocketEndpoint {
    void on_receive(Data) {}
    void on_disconnect(Code code, CloseLog& log) { log.last = static_cast<int>(code); }
};

boost::json::value last_close(CloseLog& log) {
    int code = log.last.load();
    boost::json::value value = {{"code", nullptr}};
    if (code >= 0) {
        value.as_object()["code"] = code;
    }
    return value;
}

/// Accepts with the first subprotocol offered and says which one it was.
struct SubprotocolEndpoint : flamecpp::WebSocketEndpoint {
    Task<void> on_connect(WebSocket& ws) {
        std::string chosen = ws.subprotocols().empty() ? "" : ws.subprotocols().front();
        co_await ws.accept(chosen);
        // A named local: GCC 12 miscompiles a ?: temporary inside a co_await operand.
        std::string reply = chosen.empty() ? "none" : chosen;
        co_await ws.send_text(std::move(reply));
    }
    void on_receive(Data) {}
};

}  // namespace

int main(int argc, char** argv) {
    using flamecpp::Method;
    flamecpp::App app;
    app.component(std::make_shared<ItemIds>());
    app.component(std::make_shared<CloseLog>());

    app.route("/foo/", foo);
    app.route("/bar/", bar);
    app.route<FooBar>("/foobar/");
    app.route<"/users/{user_id:int}">(user);  // names and types checked at compile time
    app.route<"/files/{rest:path}">(file);
    app.route("/search", search);
    app.route("/items/", create_item, {Method::post});
    app.route("/boom/", boom);
    app.route("/ws/close/last", last_close);

    app.websocket_route("/ws/fn", echo);
    app.websocket_route<BytesEndpoint>("/ws/bytes");
    app.websocket_route<TextEndpoint>("/ws/text");
    app.websocket_route<JsonEndpoint>("/ws/json");
    app.websocket_route<RawEndpoint>("/ws/raw");
    app.websocket_route<CloseEndpoint>("/ws/close");
    app.websocket_route<SubprotocolEndpoint>("/ws/subprotocol");
    return app.run(argc, argv);
}
