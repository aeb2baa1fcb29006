// WebSocket handlers reply by sending, not by returning.
// expect: flamecpp: a WebSocket handler returns nothing
// expect: (R = std::.*string|check_websocket_result<std::.*string)
#include <string>

#include <flamecpp/flamecpp.hpp>

#ifdef FLAMECPP_FIXED
flamecpp::Task<void> echo(flamecpp::WebSocket& ws, flamecpp::Data data) {
    co_await ws.send_text(data.str());
}
#else
std::string echo(flamecpp::WebSocket&, flamecpp::Data data) { return data.str(); }
#endif

int main() {
    flamecpp::App app;
    app.websocket_route("/ws", echo);
}
