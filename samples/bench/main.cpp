// bench: what load tests hit (see docs/samples.md, `bench`).
#include <boost/json/value.hpp>

#include <flamecpp/flamecpp.hpp>
#include <flamecpp/json.hpp>

flamecpp::Response plaintext() { return flamecpp::Response::text("Hello, World!"); }

// Serialized per request, as the contract asks.
boost::json::value json() { return {{"message", "Hello, World!"}}; }

/// Echoes each message with its frame type.
flamecpp::Task<void> echo(flamecpp::WebSocket& ws, flamecpp::Data data) {
    if (data.is_binary()) {
        co_await ws.send_bytes(std::move(data).str());
    } else {
        co_await ws.send_text(std::move(data).str());
    }
}

int main(int argc, char** argv) {
    flamecpp::App app;
    // bench/run's middleware row: the same routes through three layers most services have.
    const auto middleware = app.flag<bool>(
        "middleware", "serve through RequestID, CORS and GZip (what one layer of each costs)");
    app.on_startup([middleware](flamecpp::App& served) {
        if (*middleware) {
            served.middleware(flamecpp::RequestID{});
            served.middleware(flamecpp::CORS{{.allow_origins = {"https://app.example"}}});
            served.middleware(flamecpp::GZip{});
        }
    });
    app.route("/plaintext", plaintext);
    app.route("/json", json);
    app.websocket_route("/ws", echo);
    flamecpp::ServerOptions defaults;
    defaults.log_level = flamecpp::LogLevel::warn;  // no access log line per request
    return app.run(argc, argv, defaults);
}
