#pragma once

#include <boost/asio/awaitable.hpp>

#include <flamecpp/request.hpp>

#include "routing/router.hpp"
#include "server/worker.hpp"

namespace flamecpp::detail {

/// True when `request` asks to become a WebSocket (RFC 6455 4.2.1: GET with
/// `Upgrade: websocket` and `Connection: upgrade`).
bool is_websocket_upgrade(const Request& request) noexcept;

/// Runs a WebSocket route on `transport` from the handshake to the end. `request` and `conn`
/// belong to the HTTP session, which stays suspended (and so keeps them) meanwhile.
boost::asio::awaitable<void> run_websocket_session(
    Worker& worker, Transport transport, Request& request, const Route& route, Connection& conn);

}  // namespace flamecpp::detail
