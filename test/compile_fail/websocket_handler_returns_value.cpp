// WebSocket handlers reply by sending, not by returning.
// expect: flamecpp: a WebSocket handler returns nothing
// expect: R = std::.*string
#include <string>

#include <flamecpp/flamecpp.hpp>

std::string echo(flamecpp::WebSocket&, flamecpp::Data data) { return data.str(); }

int main() {
    flamecpp::App app;
    app.websocket_route("/ws", echo);
}
