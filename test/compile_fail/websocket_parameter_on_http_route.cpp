// WebSocket& asked for by an HTTP route.
// expect: flamecpp: WebSocket&, Data and Code exist only on WebSocket routes
// expect: register this handler with websocket_route\(\), returning void or Task<void>
// expect: (P = flamecpp::WebSocket&|check_parameter<flamecpp::WebSocket &,)
#include <flamecpp/flamecpp.hpp>

#ifdef FLAMECPP_FIXED
void view(flamecpp::WebSocket&) {}
#else
flamecpp::Response view(flamecpp::WebSocket&) { return {}; }
#endif

int main() {
    flamecpp::App app;
#ifdef FLAMECPP_FIXED
    app.websocket_route("/", view);
#else
    app.route("/", view);
#endif
}
