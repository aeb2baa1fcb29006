// A WebSocketEndpoint must define on_receive.
// expect: flamecpp: the WebSocketEndpoint class has no on_receive member
#include <flamecpp/flamecpp.hpp>

struct Silent : flamecpp::WebSocketEndpoint {
    void on_connect(flamecpp::WebSocket&) {}
#ifdef FLAMECPP_FIXED
    flamecpp::Task<void> on_receive(flamecpp::WebSocket& ws, flamecpp::Data data) {
        co_await ws.send_text(data.str());
    }
#endif
};

int main() {
    flamecpp::App app;
    app.websocket_route<Silent>("/ws");
}
