#pragma once

/// @file
/// Class-based endpoints: one member function per HTTP verb, as in Starlette and Flama.

#include <optional>

#include <flamecpp/request.hpp>
#include <flamecpp/websocket.hpp>

namespace flamecpp {

namespace detail {
struct EndpointAccess;
struct WebSocketEndpointAccess;
}  // namespace detail

/// Base of class-based HTTP endpoints. Derive, add members named `get`, `head`, `post`,
/// `put`, `patch`, `delete_` and `options` (each plain or returning `Task<...>`, one overload
/// each, parameters resolved by the injector), and register the class by type. An instance
/// is created per request; the methods it lacks answer 405 with an `Allow` header.
///
/// @code
/// struct Homepage : flamecpp::HTTPEndpoint {
///     flamecpp::Response get() { return flamecpp::Response::text("Hello, world!"); }
/// };
/// app.route<Homepage>("/");
/// @endcode
class HTTPEndpoint {
public:
    /// The request this instance serves.
    Request& request() const noexcept { return *request_; }

protected:
    /// For derived classes only; the framework creates one instance per request.
    HTTPEndpoint() = default;

private:
    friend struct detail::EndpointAccess;
    Request* request_ = nullptr;
};

/// Base of class-based WebSocket endpoints, as Starlette's and Flama's. Derive and define
/// `on_receive` (required), and optionally `on_connect` (default: accept) and `on_disconnect`;
/// each may be plain or a coroutine and takes any of `WebSocket&`, `Data`, `Code` and the
/// other injected parameters. Declare the encoding with
/// `static constexpr flamecpp::Encoding encoding = flamecpp::Encoding::text;` (default none).
/// One instance serves one connection; `on_disconnect` runs exactly once, with the close code
/// that went on the wire.
///
/// @code
/// struct Echo : flamecpp::WebSocketEndpoint {
///     static constexpr auto encoding = flamecpp::Encoding::text;
///     flamecpp::Task<void> on_receive(flamecpp::WebSocket& ws, flamecpp::Data data) {
///         co_await ws.send_text("Message text was: " + data.str());
///     }
/// };
/// app.websocket_route<Echo>("/ws");
/// @endcode
class WebSocketEndpoint {
public:
    /// How messages are decoded for `on_receive`: none here, text stays text and binary stays
    /// binary. A derived class hides it with its own `static constexpr Encoding encoding`.
    static constexpr Encoding encoding = Encoding::none;

    /// The connection this instance serves.
    WebSocket& websocket() const noexcept { return *websocket_; }
    /// The upgrade request: headers, path and query parameters.
    const Request& request() const noexcept { return websocket_->request(); }
    /// The close code, once the connection has closed.
    std::optional<Code> close_code() const noexcept { return websocket_->close_code(); }

protected:
    /// For derived classes only; the framework creates one instance per connection.
    WebSocketEndpoint() = default;

private:
    friend struct detail::WebSocketEndpointAccess;
    WebSocket* websocket_ = nullptr;
};

}  // namespace flamecpp
