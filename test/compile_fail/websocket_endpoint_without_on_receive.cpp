// A WebSocketEndpoint must define on_receive.
// expect: flamecpp: the WebSocketEndpoint class has no on_receive member
#include <flamecpp/flamecpp.hpp>

struct Silent : flamecpp::WebSocketEndpoint {
    void on_connect(flamecpp::WebSocket&) {}
};

int main() {
    flamecpp::App app;
    app.websocket_route<Silent>("/ws");
}
