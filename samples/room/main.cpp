// room: chat rooms that span processes (see docs/samples.md, `room`). Every process given
// the same `--broadcast redis://HOST:PORT` shares the rooms; with `memory://` (the default)
// they live in this process, across its threads.
#include <memory>
#include <string>

#include <boost/describe/class.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <flamecpp/body.hpp>
#include <flamecpp/flamecpp.hpp>
#include <flamecpp/json.hpp>

namespace {

using flamecpp::Broadcast;
using flamecpp::Path;
using flamecpp::Response;
using flamecpp::Task;
using flamecpp::WebSocket;

// The page connects back to the host it came from (wss: when it came over https).
constexpr const char* page = R"html(<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>flamecpp rooms</title>
  <link rel="icon" href="data:,">
</head>
<body>
  <h1>Rooms</h1>
  <form id="join">
    <label>Room <input type="text" id="room" value="lobby" autocomplete="off"></label>
    <button type="submit">Join</button>
  </form>
  <p id="status">not in a room</p>
  <form id="say">
    <input type="text" id="text" autocomplete="off" disabled>
    <button type="submit" id="send" disabled>Send</button>
  </form>
  <ul id="messages"></ul>
  <script>
    let socket = null;
    const status = document.getElementById("status");
    const text = document.getElementById("text");
    const send = document.getElementById("send");
    const messages = document.getElementById("messages");
    function join(room) {
      if (socket) { socket.onclose = null; socket.close(); }
      messages.replaceChildren();
      const scheme = location.protocol === "https:" ? "wss://" : "ws://";
      socket = new WebSocket(scheme + location.host + "/ws/" + encodeURIComponent(room));
      status.textContent = "joining " + room + "...";
      socket.onopen = () => {
        status.textContent = "in room " + room;
        text.disabled = send.disabled = false;
        text.focus();
      };
      socket.onclose = (event) => {
        status.textContent = "left " + room + " (" + event.code + ")";
        text.disabled = send.disabled = true;
      };
      socket.onmessage = (event) => {
        const message = JSON.parse(event.data);
        const item = document.createElement("li");
        item.textContent = message.text;
        messages.appendChild(item);
      };
    }
    document.getElementById("join").addEventListener("submit", (event) => {
      event.preventDefault();
      join(document.getElementById("room").value);
    });
    document.getElementById("say").addEventListener("submit", (event) => {
      event.preventDefault();
      socket.send(text.value);
      text.value = "";
    });
  </script>
</body>
</html>
)html";

/// A room's channel on the hub (and on Redis).
std::string channel(const std::string& room) { return "room:" + room; }

/// What every client of the room receives.
std::string said(const std::string& room, std::string text) {
    return boost::json::serialize(boost::json::object{{"room", room}, {"text", std::move(text)}});
}

struct Message {
    std::string text;
};
BOOST_DESCRIBE_STRUCT(Message, (), (text))

Response homepage() { return Response::html(page); }

/// A client of one room: what the room says is queued to it (bounded: a client that stops
/// reading is closed with 1008); what it says goes to the room. A binary message closes it
/// with 1003 (the encoding).
struct RoomSocket : flamecpp::WebSocketEndpoint {
    static constexpr flamecpp::Encoding encoding = flamecpp::Encoding::text;

    flamecpp::Subscription subscription;  // ends with the connection

    Task<void> on_connect(WebSocket& ws, Path<"room"> room, Broadcast& hub) {
        co_await ws.accept();
        subscription = hub.subscribe(channel(*room), ws);
    }

    void on_receive(flamecpp::Data data, Path<"room"> room, Broadcast& hub) {
        hub.publish(channel(*room), said(*room, std::move(data).str()));
    }
};

Response post_message(Path<"room"> room, flamecpp::Body<Message> message, Broadcast& hub) {
    hub.publish(channel(*room), said(*room, std::move(message->text)));
    return Response::empty(flamecpp::Status::accepted);
}

boost::json::value room_info(Path<"room"> room, Broadcast& hub) {
    return boost::json::object{{"room", *room}, {"clients", hub.subscribers(channel(*room))}};
}

}  // namespace

int main(int argc, char** argv) {
    flamecpp::App app;
    const auto broadcast = app.flag<std::string>(
        "broadcast", "where rooms live: memory:// (this process) or redis://HOST:PORT (shared)",
        "memory://", "URL", Broadcast::check_url);
    // A client that stops reading holds at most 1 MiB of the room's messages, then is closed
    // with 1008 (the framework's defaults, spelled out).
    app.limits().websocket_send_queue_bytes = std::size_t{1024} * 1024;
    app.limits().websocket_queue_full = flamecpp::QueueFull::close;
    app.on_startup(
        [broadcast](flamecpp::App& self) {
            self.component(std::make_shared<Broadcast>(flamecpp::BroadcastOptions{
                .url = *broadcast, .queue_bytes = std::size_t{1024} * 1024}));
        },
        "open the broadcast hub");
    app.route("/", homepage);
    app.websocket_route<RoomSocket>("/ws/{room}");
    app.route("/rooms/{room}/messages", post_message, {flamecpp::Method::post});
    app.route("/rooms/{room}", room_info);
    return app.run(argc, argv);
}
