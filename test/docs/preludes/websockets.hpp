// Prelude of docs/websockets.md's fragments: the handlers its route list registers, and the
// `Message` body and `all_clients()` its broadcast examples describe in words.
#pragma once

#include "flamecpp.hpp"

using flamecpp::Encoding;

struct Echo : flamecpp::WebSocketEndpoint {
    flamecpp::Task<void> on_receive(flamecpp::WebSocket& ws, flamecpp::Data data);
};
flamecpp::Task<void> echo(flamecpp::WebSocket& ws, flamecpp::Data data);
flamecpp::Task<void> raw(flamecpp::WebSocket& ws, flamecpp::Data data);

struct Message {
    std::string text;
};
BOOST_DESCRIBE_STRUCT(Message, (), (text))

// A copy of the connected clients' handles, taken under the page's `clients_mutex`.
std::vector<flamecpp::WebSocket> all_clients();
