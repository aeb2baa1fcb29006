// A WebSocket function view that takes neither WebSocket& nor Data: nothing to talk to.
// expect: flamecpp: a WebSocket function view takes WebSocket& \(to own the conversation\) or Data
#include <flamecpp/flamecpp.hpp>

#ifdef FLAMECPP_FIXED
flamecpp::Task<void> hello(flamecpp::WebSocket& ws, flamecpp::Request& request) {
    co_await ws.accept();
    co_await ws.send_text("hello " + std::string(request.raw_path()));
}
#else
void hello(flamecpp::Request&) {}
#endif

int main() {
    flamecpp::App app;
    app.websocket_route("/ws", hello);
}
