#include "fuzz_app.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <boost/describe/class.hpp>
#include <boost/json/value.hpp>

#include <flamecpp/body.hpp>
#include <flamecpp/flamecpp.hpp>
#include <flamecpp/json.hpp>

namespace flamecpp::fuzz {
namespace {

struct Line {
    std::string sku;
    std::int32_t quantity;
    std::optional<double> price;
};
BOOST_DESCRIBE_STRUCT(Line, (), (sku, quantity, price))

struct Order {
    std::string customer;
    std::vector<Line> lines;
    std::optional<std::vector<std::string>> tags;
    bool gift;
    std::uint16_t priority;
    boost::json::value extra;
};
BOOST_DESCRIBE_STRUCT(Order, (), (customer, lines, tags, gift, priority, extra))

boost::json::value item(Path<"id", std::int64_t> id,
                        Query<"limit", int, 10> limit,
                        Query<"tag", std::vector<std::string>> tags,
                        Query<"ratio", std::optional<double>> ratio,
                        Query<"verbose", bool, false> verbose,
                        Header<"X-Trace", std::optional<std::string>> trace,
                        Cookie<"session", std::optional<std::string>> session) {
    boost::json::array tag_list;
    for (auto& t : *tags) {
        tag_list.emplace_back(t);
    }
    boost::json::value v = {
        {"id", *id}, {"limit", *limit}, {"tags", tag_list}, {"verbose", *verbose}};
    if (ratio->has_value()) {
        v.as_object()["ratio"] = **ratio;
    }
    if (trace->has_value()) {
        v.as_object()["trace"] = **trace;
    }
    if (session->has_value()) {
        v.as_object()["session"] = **session;
    }
    return v;
}

boost::json::value file(Path<"rest"> rest) { return {{"path", *rest}}; }

boost::json::value user(Path<"name"> name, Path<"score", double> score) {
    return {{"name", *name}, {"score", *score}};
}

std::string by_uuid(Path<"id"> id) { return std::string(*id); }

Order create(Body<Order> order) { return std::move(*order); }

boost::json::value any_json(Body<boost::json::value> body) { return std::move(*body); }

Response echo_body(Request& request) { return Response::text(std::string(request.body())); }

Response stream() {
    return Response::stream([](BodyWriter& out) -> Task<void> {
        co_await out.write("one ");
        co_await out.write("two");
    });
}

Response go() { return Response::redirect("/"); }

Response nope() { throw HTTPException(Status::forbidden, "no"); }

struct Thing : HTTPEndpoint {
    boost::json::value get(Path<"id", int> id) { return {{"id", *id}}; }
    Task<Response> put(Path<"id", int> id, Body<boost::json::object> body) {
        co_return Response::json(boost::json::value{{"id", *id}, {"body", std::move(*body)}});
    }
    Response delete_() { return Response::empty(Status::no_content); }
};

Task<void> echo(WebSocket& ws, Data data) {
    if (data.is_binary()) {
        co_await ws.send_bytes(std::move(data).str());
    } else {
        co_await ws.send_text(std::move(data).str());
    }
}

struct JsonEcho : WebSocketEndpoint {
    static constexpr Encoding encoding = Encoding::json;
    Task<void> on_receive(WebSocket& ws, Data data) {
        boost::json::value reply = {{"got", data.json()}};
        co_await ws.send_json(reply);
    }
};

struct TextEcho : WebSocketEndpoint {
    static constexpr Encoding encoding = Encoding::text;
    Task<void> on_receive(WebSocket& ws, Data data) {
        co_await ws.send_text(std::move(data).str());
    }
};

struct BytesCount : WebSocketEndpoint {
    static constexpr Encoding encoding = Encoding::bytes;
    Task<void> on_receive(WebSocket& ws, Data data) {
        co_await ws.send_bytes(std::to_string(std::move(data).str().size()));
    }
    void on_disconnect(Code) {}
};

}  // namespace

void build_fuzz_app(App& app) {
    app.limits().max_body_bytes = 64 * 1024;
    app.limits().max_header_bytes = 8 * 1024;
    app.limits().max_websocket_message_bytes = 64 * 1024;
    app.route("/", [] { return "Hello, World!"; });
    app.route<"/items/{id:int}">(item);
    app.route<"/files/{rest:path}">(file);
    app.route<"/users/{name}/{score:float}">(user);
    app.route<"/by-uuid/{id:uuid}">(by_uuid);
    app.route("/orders", create, {Method::post});
    app.route("/json", any_json, {Method::post, Method::put});
    app.route("/echo", echo_body, {Method::post});
    app.route("/stream", stream);
    app.route("/go", go);
    app.route("/nope", nope);
    app.route<Thing>("/things/{id:int}");
    app.websocket_route("/ws", echo);
    app.websocket_route<JsonEcho>("/ws/json");
    app.websocket_route<TextEcho>("/ws/text");
    app.websocket_route<BytesCount>("/ws/bytes");
}

App& fuzz_app() {
    static App app = [] {
        App a;
        build_fuzz_app(a);
        return a;
    }();
    return app;
}

}  // namespace flamecpp::fuzz
