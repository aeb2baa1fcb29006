// The loops of WebSocket routes, compiled once for every view and endpoint class: the
// handlers in <flamecpp/detail/websocket_handler.hpp> hand over type-erased calls, so an
// app's translation unit instantiates no coroutine for them.
#include <exception>
#include <string_view>
#include <utility>

#include <flamecpp/detail/websocket_handler.hpp>

namespace flamecpp::detail {
namespace {

/// Runs one call: a plain call, or the handler's own task awaited with no frame in between.
Task<void> invoke(WebSocketCall call, void* target, CallContext& ctx) {
    if (call.start != nullptr) {
        Task<void> task = call.start(target, ctx);
        co_await std::move(task);
    } else {
        call.call(target, ctx);
    }
}

}  // namespace

Task<void> drive_websocket_view(CallContext& ctx,
                                std::string_view route,
                                void* view,
                                WebSocketCall call,
                                bool per_message,
                                Encoding encoding) {
    WebSocket& ws = *ctx.websocket;
    std::exception_ptr failure;
    try {
        if (per_message) {
            co_await ws.accept();
            for (;;) {
                auto message = co_await next_message(ws, encoding);
                if (!message) {
                    break;
                }
                ctx.data = &*message;
                if (call.start != nullptr) {
                    Task<void> task = call.start(view, ctx);
                    co_await std::move(task);
                } else {
                    call.call(view, ctx);
                }
            }
        } else {
            co_await invoke(call, view, ctx);
        }
    } catch (...) {
        failure = std::current_exception();
    }
    if (failure) {
        co_await fail_websocket(ws, route, failure);
    }
    co_await finish_websocket(ws);
}

Task<void> drive_websocket_endpoint(CallContext& ctx,
                                    std::string_view route,
                                    EndpointHolder endpoint,
                                    Encoding encoding,
                                    WebSocketCall on_connect,
                                    WebSocketCall on_receive,
                                    WebSocketCall on_disconnect) {
    WebSocket& ws = *ctx.websocket;
    void* target = endpoint.get();
    std::exception_ptr failure;
    try {
        if (on_connect) {
            co_await invoke(on_connect, target, ctx);
        } else {
            co_await ws.accept();
        }
        while (ws.state() == WebSocket::State::connected) {
            auto message = co_await next_message(ws, encoding);
            if (!message) {
                break;
            }
            ctx.data = &*message;
            if (on_receive.start != nullptr) {
                Task<void> task = on_receive.start(target, ctx);
                co_await std::move(task);
            } else {
                on_receive.call(target, ctx);
            }
        }
    } catch (...) {
        failure = std::current_exception();
    }
    if (failure) {
        co_await fail_websocket(ws, route, failure);
    }
    co_await finish_websocket(ws);
    ctx.data = nullptr;
    ctx.code = ws.close_code();
    if (on_disconnect) {
        std::exception_ptr late;
        try {
            co_await invoke(on_disconnect, target, ctx);
        } catch (...) {
            late = std::current_exception();
        }
        if (late) {
            report_websocket_error(ws, route, late);
        }
    }
}

}  // namespace flamecpp::detail
