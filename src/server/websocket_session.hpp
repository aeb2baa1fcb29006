#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include <flamecpp/request.hpp>
#include <flamecpp/response.hpp>

#include "routing/router.hpp"
#include "server/worker.hpp"

namespace flamecpp::detail {

/// True when `request` asks to become a WebSocket (RFC 6455 4.2.1: GET with
/// `Upgrade: websocket` and `Connection: upgrade`).
bool is_websocket_upgrade(const Request& request) noexcept;

/// Header fields to add to an answer, in order.
using HeaderList = std::vector<std::pair<std::string, std::string>>;

/// RFC 6455 4.2.1: HTTP/1.1, version 13 and a 16-byte base64 key. The refusal when the
/// upgrade request lacks one of them.
std::optional<Response> check_handshake(const Request& request);

/// Runs a WebSocket route on `transport` from the handshake to the end. `request` and `conn`
/// belong to the HTTP session, which stays suspended (and so keeps them) meanwhile. `headers`
/// (from the app's middleware) go on the 101, or on the refusal if the handler refuses.
boost::asio::awaitable<void> run_websocket_session(Worker& worker,
                                                   Transport transport,
                                                   Request& request,
                                                   const Route& route,
                                                   Connection& conn,
                                                   HeaderList headers);

}  // namespace flamecpp::detail
