// chat: a page and a WebSocket echo (see docs/samples.md, `chat`).
#include <string>

#include <flamecpp/flamecpp.hpp>

namespace {

// The page connects back to the host it came from, so it works behind any --host/--port.
constexpr const char* page = R"html(<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>flamecpp chat</title>
</head>
<body>
  <h1>WebSocket chat</h1>
  <form id="form">
    <input type="text" id="text" autocomplete="off" autofocus>
    <button type="submit">Send</button>
  </form>
  <p id="status">connecting...</p>
  <ul id="messages"></ul>
  <script>
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    const socket = new WebSocket(scheme + location.host + "/ws");
    const status = document.getElementById("status");
    socket.onopen = () => { status.textContent = "connected"; };
    socket.onclose = (event) => { status.textContent = "closed (" + event.code + ")"; };
    socket.onmessage = (event) => {
      const item = document.createElement("li");
      item.textContent = event.data;
      document.getElementById("messages").appendChild(item);
    };
    document.getElementById("form").addEventListener("submit", (event) => {
      event.preventDefault();
      const input = document.getElementById("text");
      socket.send(input.value);
      input.value = "";
    });
  </script>
</body>
</html>
)html";

flamecpp::Response homepage() { return flamecpp::Response::html(page); }

/// Echoes each text message; a binary one closes the connection with 1003 (the encoding).
struct Echo : flamecpp::WebSocketEndpoint {
    static constexpr flamecpp::Encoding encoding = flamecpp::Encoding::text;

    flamecpp::Task<void> on_receive(flamecpp::WebSocket& ws, flamecpp::Data data) {
        co_await ws.send_text("Message text was: " + std::move(data).str());
    }
};

}  // namespace

int main(int argc, char** argv) {
    flamecpp::App app;
    app.route("/", homepage);
    app.websocket_route<Echo>("/ws");
    return app.run(argc, argv);
}
