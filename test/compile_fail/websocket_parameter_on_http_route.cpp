// WebSocket& asked for by an HTTP route.
// expect: flamecpp: WebSocket&, Data and Code exist only on WebSocket routes
// expect: P = flamecpp::WebSocket&
#include <flamecpp/flamecpp.hpp>

flamecpp::Response view(flamecpp::WebSocket&) { return {}; }

int main() {
    flamecpp::App app;
    app.route("/", view);
}
