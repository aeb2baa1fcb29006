#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include <boost/json/value.hpp>

#include <flamecpp/websocket.hpp>

#include "app/app_impl.hpp"
#include "app/components.hpp"
#include "app/exceptions.hpp"
#include "json/reader.hpp"
#include "json/writer.hpp"
#include "log.hpp"
#include "server/websocket/session.hpp"

namespace flamecpp {

// The public WebSocket API: thin forwards to the session.

const Request& WebSocket::request() const noexcept { return session_->request(); }
std::span<const std::string> WebSocket::subprotocols() const noexcept {
    return session_->subprotocols();
}
WebSocket::State WebSocket::state() const noexcept { return session_->state(); }
std::optional<Code> WebSocket::close_code() const noexcept { return session_->close_code(); }
std::string_view WebSocket::close_reason() const noexcept { return session_->close_reason(); }

Task<void> WebSocket::accept(std::string subprotocol,
                             std::vector<std::pair<std::string, std::string>> headers) {
    auto session = session_;
    co_await session->accept(std::move(subprotocol), std::move(headers));
}

Task<void> WebSocket::close(Code code, std::string reason) {
    auto session = session_;
    co_await session->close(code, std::move(reason));
}

// The hot paths return the session's own coroutine: no frame of their own.
Task<void> WebSocket::send_text(std::string text) {
    return session_->send(session_, std::move(text), false);
}

Task<void> WebSocket::send_bytes(std::string bytes) {
    return session_->send(session_, std::move(bytes), true);
}

Task<void> WebSocket::send_json(const boost::json::value& value) {
    return session_->send(session_, detail::serialize_json(value), false);
}

bool WebSocket::queue_text(std::string text) {
    return session_->queue(session_, std::move(text), false);
}

bool WebSocket::queue_bytes(std::string bytes) {
    return session_->queue(session_, std::move(bytes), true);
}

bool WebSocket::queue_json(const boost::json::value& value) {
    return session_->queue(session_, detail::serialize_json(value), false);
}

// Each returns the session's receive loop itself: one coroutine frame per message.
Task<Data> WebSocket::receive() { return session_->receive_as<Data>(session_, Encoding::none); }

Task<Data> WebSocket::receive_json() {
    return session_->receive_as<Data>(session_, Encoding::json);
}

Task<std::string> WebSocket::receive_text() {
    auto message = co_await session_->receive_as<Data>(session_, Encoding::text);
    co_return std::move(message).str();
}

Task<std::string> WebSocket::receive_bytes() {
    auto message = co_await session_->receive_as<Data>(session_, Encoding::bytes);
    co_return std::move(message).str();
}

WebSocketDisconnect::WebSocketDisconnect(Code code, std::string reason)
    : std::runtime_error("WebSocket closed with code " +
                         std::to_string(static_cast<unsigned>(code)) +
                         (reason.empty() ? std::string() : ": " + reason)),
      code_(code),
      reason_(std::move(reason)) {}

const boost::json::value& Data::json() const {
    if (!json_) {
        throw std::logic_error("flamecpp: Data::json() needs the json encoding");
    }
    return *json_;
}

namespace detail {

const char* decode(Data& data, Encoding encoding) {
    switch (encoding) {
        case Encoding::none:
            return nullptr;
        case Encoding::text:
            return data.is_binary() ? "expected a text message" : nullptr;
        case Encoding::bytes:
            return data.is_text() ? "expected a binary message" : nullptr;
        case Encoding::json:
            try {
                data.set_json(std::make_shared<const boost::json::value>(parse_json(data.str())));
            } catch (const JsonError&) {
                return "expected a JSON message";
            }
            return nullptr;
    }
    return nullptr;
}

Task<std::optional<Data>> next_message(WebSocket& ws, Encoding encoding) {
    auto session = WebSocketAccess::handle(ws);
    return session->receive_as<std::optional<Data>>(session, encoding);
}

/// Whether `error` is the WebSocketDisconnect a receive or send threw because the connection
/// had closed: the normal way for a conversation loop to end, not a handler failure.
bool is_disconnect(const WebSocket& ws, const std::exception_ptr& error) noexcept {
    if (ws.state() == WebSocket::State::connected) {
        return false;
    }
    try {
        std::rethrow_exception(error);
    } catch (const WebSocketDisconnect&) {
        return true;
    } catch (...) {
        return false;
    }
}

namespace {

/// The close the app's WebSocket exception handler chooses for `error`, if it has one for its
/// type; a handler that fails is logged, and gives none.
Task<std::optional<WebSocketClose>> chosen_close(CallContext& ctx,
                                                 const std::exception_ptr& error) {
    const ExceptionHandlers& handlers = ctx.app->impl().websocket_exception_handlers;
    const void* object = nullptr;
    const ExceptionHandlerEntry* entry =
        handlers.empty() ? nullptr : handlers.for_exception(error, object);
    if (entry == nullptr) {
        co_return std::nullopt;
    }
    std::exception_ptr failure;
    try {
        CallContext call = ctx;
        call.exception = object;
        if (entry->needs_components && !prepare_components_now(call, entry->components)) {
            co_await prepare_components(call, entry->components);
        }
        co_return co_await entry->closer->choose(call);
    } catch (...) {
        failure = std::current_exception();
    }
    WebSocketAccess::session(*ctx.websocket).handler_failed(entry->name, failure);
    co_return std::nullopt;
}

}  // namespace

Task<void> fail_websocket(CallContext& ctx, std::string_view route, std::exception_ptr error) {
    WebSocket& ws = *ctx.websocket;
    if (is_disconnect(ws, error)) {
        co_return;
    }
    if (ws.state() == WebSocket::State::connected && ctx.app != nullptr) {
        const std::optional<WebSocketClose> chosen = co_await chosen_close(ctx, error);
        if (chosen) {
            try {
                co_await ws.close(chosen->code, chosen->reason);
            } catch (const std::exception&) {
            }
            co_return;
        }
    }
    WebSocketAccess::session(ws).handler_failed(route, error);
    if (ws.state() == WebSocket::State::connecting) {
        co_await WebSocketAccess::session(ws).refuse(Status::internal_server_error,
                                                     Code::internal_error);
    } else {
        try {
            co_await ws.close(Code::internal_error, "internal error");
        } catch (const std::exception&) {
        }
    }
}

Task<void> finish_websocket(WebSocket& ws) {
    switch (ws.state()) {
        case WebSocket::State::connecting:
            logger().warn(
                "websocket route '{}': the handler neither accepted nor closed; "
                "refusing the handshake",
                ws.request().route());
            co_await ws.close(Code::policy_violation);
            break;
        case WebSocket::State::connected:
            try {
                co_await ws.close(Code::normal);
            } catch (const std::exception&) {
            }
            break;
        case WebSocket::State::closed:
            break;
    }
}

void report_websocket_error(WebSocket& ws,
                            std::string_view route,
                            std::exception_ptr error) noexcept {
    WebSocketAccess::session(ws).handler_failed(route, std::move(error));
}

void log_websocket_error(std::string_view route, std::exception_ptr error) noexcept {
    try {
        std::rethrow_exception(std::move(error));
    } catch (const std::exception& e) {
        logger().error("websocket handler of route '{}' threw: {}", route, e.what());
    } catch (...) {
        logger().error("websocket handler of route '{}' threw a non-standard exception", route);
    }
}

}  // namespace detail
}  // namespace flamecpp
