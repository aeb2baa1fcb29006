// A WebSocket handler whose signature cannot be read.
// expect: flamecpp: the handler's signature cannot be read
// expect-first-error: flamecpp: the handler's signature cannot be read
// expect: (F = main\(\)::<lambda|check_websocket_handler<\(lambda)
#include <flamecpp/flamecpp.hpp>

int main() {
    flamecpp::App app;
#ifdef FLAMECPP_FIXED
    app.websocket_route("/ws", [](flamecpp::WebSocket&, flamecpp::Data) {});
#else
    app.websocket_route("/ws", [](auto&, flamecpp::Data) {});
#endif
}
