#pragma once

// The state of a WebSocketTestSession: a Beast WebSocket stream on the session's own
// io_context, driven one bounded operation at a time. TestClient makes it (the handshake is
// in test_client.cpp); websocket_session.cpp runs it.

#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/buffer.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket/error.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/beast/websocket/stream.hpp>

#include "testing/client_stream.hpp"
#include "testing/client_support.hpp"

namespace flamecpp::testing {

using namespace client;  // this folder's own helpers
namespace beast = boost::beast;
namespace websocket = beast::websocket;

struct WebSocketTestSession::Impl {
    asio::io_context io{1};
    websocket::stream<ClientStream> ws{io};
    beast::flat_buffer buffer;
    std::string target;
    std::string subprotocol;
    Headers headers;
    milliseconds timeout{};
    ErrorPolicy policy;
    bool open = false;
    std::optional<int> close_code;
    std::string close_reason;

    void shut() noexcept {
        ws.next_layer().close();
        open = false;
    }

    template <class Start>
    error_code run(milliseconds limit, std::string_view what, Start&& start) {
        auto ec = run_for(io, limit, std::forward<Start>(start), [this] { shut(); });
        if (!ec) {
            policy.raise_pending();
            throw TimeoutError("WebSocket " + target + ": " + std::string(what) +
                               " took longer than " + describe(limit));
        }
        return *ec;
    }

    // The connection ended: remember how, and raise the server's error or WebSocketClosed.
    [[noreturn]] void ended(error_code ec) {
        if (ec == websocket::error::closed) {
            const websocket::close_reason& reason = ws.reason();
            close_code =
                reason.code == websocket::close_code::none ? 1005 : static_cast<int>(reason.code);
            close_reason.assign(reason.reason.data(), reason.reason.size());
        } else {
            close_code = 1006;
            close_reason = "the TCP connection ended without a close frame: " + ec.message();
        }
        shut();
        policy.raise_pending();
        throw WebSocketClosed(*close_code, close_reason);
    }

    // Server errors are raised when the connection ends (a 1011 close follows them), so that
    // the messages sent before the failure are received first, in order.
    void require_open(std::string_view what) {
        if (!open) {
            if (close_code) {
                throw WebSocketClosed(*close_code, close_reason);
            }
            throw std::logic_error("WebSocket " + target + ": " + std::string(what) +
                                   " after the session ended");
        }
    }

    void send(std::string_view payload, bool binary) {
        require_open(binary ? "send_bytes" : "send_text");
        ws.binary(binary);
        error_code ec = run(timeout, "sending a message", [&](auto handler) {
            ws.async_write(asio::buffer(payload.data(), payload.size()), std::move(handler));
        });
        if (ec) {
            ended(ec);
        }
    }

    WebSocketMessage receive(std::optional<milliseconds> limit) {
        require_open("receive");
        buffer.clear();
        error_code ec = run(limit.value_or(timeout), "waiting for a message",
                            [&](auto handler) { ws.async_read(buffer, std::move(handler)); });
        if (ec) {
            ended(ec);
        }
        return {!ws.got_text(), beast::buffers_to_string(buffer.data())};
    }
};

}  // namespace flamecpp::testing
