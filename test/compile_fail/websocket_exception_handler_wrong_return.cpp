// A WebSocket exception handler chooses how the connection closes.
// expect-first-error: flamecpp: a WebSocket exception handler returns flamecpp::WebSocketClose
// expect: F = main\(\)::<lambda
#include <stdexcept>

#include <flamecpp/flamecpp.hpp>
#include <flamecpp/websocket.hpp>

int main() {
    flamecpp::App app;
#ifdef FLAMECPP_FIXED
    app.websocket_exception_handler<std::runtime_error>([](const std::runtime_error&) {
        return flamecpp::WebSocketClose{flamecpp::Code::try_again_later, "busy"};
    });
#else
    app.websocket_exception_handler<std::runtime_error>(
        [](const std::runtime_error&) { return flamecpp::Response::text("busy"); });
#endif
}
