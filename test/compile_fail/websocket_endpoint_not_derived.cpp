// websocket_route<E>() with a class that is not a WebSocketEndpoint.
// expect: flamecpp: websocket_route<E>\(\) takes a class derived from flamecpp::WebSocketEndpoint
// expect: (E = Echo|check_websocket_endpoint<Echo>)
#include <flamecpp/flamecpp.hpp>

#ifdef FLAMECPP_FIXED
struct Echo : flamecpp::WebSocketEndpoint {
#else
struct Echo {
#endif
    flamecpp::Task<void> on_receive(flamecpp::WebSocket& ws, flamecpp::Data data) {
        co_await ws.send_text(data.str());
    }
};

int main() {
    flamecpp::App app;
    app.websocket_route<Echo>("/ws");
}
