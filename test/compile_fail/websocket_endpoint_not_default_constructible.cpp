// A WebSocketEndpoint class that needs a constructor argument: it is created per connection.
// expect: flamecpp: a WebSocketEndpoint class is created per connection and must be
// default-constructible expect: hold shared state in a component instead
#include <memory>
#include <string>

#include <flamecpp/flamecpp.hpp>

#ifdef FLAMECPP_FIXED
struct Room : flamecpp::Component {
    std::string name = "lobby";
};

struct Chat : flamecpp::WebSocketEndpoint {
    flamecpp::Task<void> on_receive(flamecpp::WebSocket& ws, flamecpp::Data data, Room& room) {
        co_await ws.send_text(room.name + ": " + data.str());
    }
};
#else
struct Chat : flamecpp::WebSocketEndpoint {
    explicit Chat(std::string room) : room_(std::move(room)) {}
    flamecpp::Task<void> on_receive(flamecpp::WebSocket& ws, flamecpp::Data data) {
        co_await ws.send_text(room_ + ": " + data.str());
    }

private:
    std::string room_;
};
#endif

int main() {
    flamecpp::App app;
    app.websocket_route<Chat>("/ws");
#ifdef FLAMECPP_FIXED
    app.component(std::make_shared<Room>());
#endif
}
