// The WebSocket integration tests' shared part: the app every websocket_*_test binary serves
// (its function views and endpoint classes are in websocket_fixture.cpp, compiled once into
// the flamecpp_websocket_fixture library), the journal its handlers write to, and the
// WebSocketTest fixture: a real Server on 127.0.0.1, port 0, in the test's process, and
// blocking WebSocket clients (test/support/ws_client.hpp) talking to it, well-behaved or
// hostile.
//
// What the handlers see (close codes given to on_disconnect, exceptions caught inside
// handlers) is written to a journal the tests wait on; the waits are bounded, and stopping the
// server (Server::stop + wait) guarantees every handler has finished before counts are checked.
//
// The routes, by prefix: /echo, /fn/... (function views), /ep/... (WebSocketEndpoint classes,
// each journaling its close code under "disconnect:<id>", the connection's ?id=), /http-only.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include <flamecpp/app.hpp>
#include <flamecpp/flamecpp.hpp>
#include <flamecpp/websocket.hpp>

#include "journal.hpp"
#include "quiet_options.hpp"
#include "ws_client.hpp"

namespace flamecpp::wstest {

using namespace std::chrono_literals;
using test::HandshakeRejected;
using test::RawFrame;
using test::RawWebSocket;
using test::ws_binary;
using test::ws_closed;
using test::ws_frame;
using test::ws_text;
using test::WsClient;
using test::WsClosed;
using test::WsEvent;
using test::WsMessage;
namespace op = test::opcode;

// ---------------------------------------------------------------------------------------------
// The journal: what handlers saw, keyed by the connection's ?id= (handlers run on server
// threads).

test::Journal& journal();

// ---------------------------------------------------------------------------------------------
// The app.

// Registers every route above on `app`.
void add_routes(App& app);

// /fn/burst: two tasks send `count` messages each, tagged 'A' (text) and 'B' (binary), by
// default each big enough that a write suspends now and then; burst_message is message `i`.
inline constexpr std::size_t kBurstPayload = 48 * 1024;

std::string burst_message(char tag, int i, std::size_t size = kBurstPayload);

// /fn/relay: each connection registers a copy of its handle under ?name=. The handle
// registered under `name`, if any.
std::optional<WebSocket> find_peer(const std::string& name);

// Forgets every registered handle (handles must not outlive the server).
void clear_relay_registry();

// ---------------------------------------------------------------------------------------------
// Fixture: a fresh app and server per test; a test may change the limits and restart.

class WebSocketTest : public ::testing::Test {
protected:
    void SetUp() override {
        journal().clear();
        add_routes(app);
        Start();
    }

    void TearDown() override {
        // Handles in the registry must not outlive the server.
        clear_relay_registry();
        server.reset();
    }

    void Start(unsigned threads = 2) {
        server.reset();
        server.emplace(app, test::quiet_options(threads));
    }

    // Stops the running server, changes the app's limits (the app must not change while a
    // server runs), and starts a new one.
    void Restart(const std::function<void(Limits&)>& change) {
        server.reset();
        change(app.limits());
        Start();
    }

    // Stops the server and waits for it: every handler (on_disconnect included) has finished.
    void StopServer() {
        server->stop();
        server->wait();
    }

    std::uint16_t port() const { return server->port(); }

    // A connected client; fails the test (and throws) if the handshake fails.
    WsClient Connect(std::string_view target, std::vector<std::string> subprotocols = {}) {
        WsClient client;
        client.connect(port(), target, std::move(subprotocols));
        return client;
    }

    // The connection `id` on an endpoint class was closed with `code`, reported once.
    void ExpectDisconnectedOnce(const std::string& id, int code) {
        const auto seen = journal().wait("disconnect:" + id);
        ASSERT_TRUE(seen.has_value()) << "on_disconnect of '" << id << "' did not run within 5 s";
        EXPECT_EQ(*seen, std::to_string(code)) << "on_disconnect of '" << id << "'";
        StopServer();
        EXPECT_EQ(journal().all("disconnect:" + id).size(), 1u)
            << "on_disconnect of '" << id << "' ran more than once";
    }

    // The server is still serving WebSockets.
    void ExpectStillServing() {
        WsClient client = Connect("/echo");
        client.send_text("still there?");
        EXPECT_EQ(client.receive(), ws_text("still there?"));
    }

    App app;
    std::optional<Server> server;
};

// A text message holding JSON equal to `expected` (numbers compare by value: 2.5 == 2.5E0).
void ExpectJsonText(const WsEvent& event, std::string_view expected);

}  // namespace flamecpp::wstest
