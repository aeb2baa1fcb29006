// The site's page: shows the ticks of the server-sent event stream and of the WebSocket.
"use strict";

function show(id, text) {
  const element = document.getElementById(id);
  if (element) {
    element.textContent = text;
  }
}

// Server-sent events: the browser reconnects on its own and sends Last-Event-ID, so the
// stream resumes after the last tick it saw.
function followEvents() {
  const source = new EventSource("/events");
  source.addEventListener("tick", (event) => {
    const tick = JSON.parse(event.data);
    show("events", `tick ${tick.n} (event id ${event.lastEventId})`);
  });
  source.addEventListener("error", () => {
    show("events", "stream ended; the browser will reconnect");
  });
}

// The WebSocket ticker: a JSON {"n": K} every 100 ms.
function followTicker() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const socket = new WebSocket(`${scheme}//${location.host}/ws/ticker`);
  socket.addEventListener("message", (message) => {
    const tick = JSON.parse(message.data);
    show("ticker", `tick ${tick.n}`);
  });
  socket.addEventListener("close", (event) => {
    show("ticker", `closed (${event.code})`);
  });
}

document.addEventListener("DOMContentLoaded", () => {
  followEvents();
  followTicker();
});
