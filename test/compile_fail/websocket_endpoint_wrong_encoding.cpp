// A WebSocketEndpoint encoding spelled as a string, as in Starlette.
// expect: flamecpp: a WebSocketEndpoint's encoding is declared as
// expect: static constexpr flamecpp::Encoding encoding = flamecpp::Encoding::text
#include <flamecpp/flamecpp.hpp>

struct Echo : flamecpp::WebSocketEndpoint {
#ifdef FLAMECPP_FIXED
    static constexpr flamecpp::Encoding encoding = flamecpp::Encoding::text;
#else
    static constexpr const char* encoding = "text";
#endif
    flamecpp::Task<void> on_receive(flamecpp::WebSocket& ws, flamecpp::Data data) {
        co_await ws.send_text(data.str());
    }
};

int main() {
    flamecpp::App app;
    app.websocket_route<Echo>("/ws");
}
