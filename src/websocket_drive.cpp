// The loops of WebSocket routes, compiled once for every view and endpoint class: the
// handlers in <flamecpp/detail/websocket_handler.hpp> hand over type-erased calls, so an
// app's translation unit instantiates no coroutine for them.
#include <exception>
#include <memory>
#include <string_view>
#include <utility>

#include <flamecpp/detail/websocket_handler.hpp>

namespace flamecpp::detail {
namespace {

/// Makes one call. A plain call runs now (false); one that returns the handler's own task
/// hands it over in `task` (true), for the caller to await with no frame in between.
bool start(WebSocketCall call, void* target, CallContext& ctx, Task<void>& task) {
    if (call.start != nullptr) {
        task = call.start(target, ctx);
        return true;
    }
    call.call(target, ctx);
    return false;
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
                if (Task<void> task; start(call, view, ctx, task)) {
                    co_await std::move(task);
                }
            }
        } else if (Task<void> task; start(call, view, ctx, task)) {
            co_await std::move(task);
        }
    } catch (...) {
        failure = std::current_exception();
    }
    if (failure) {
        co_await fail_websocket(ctx, route, failure);
    }
    co_await finish_websocket(ws);
}

namespace {

/// Drives one connection's instance of a WebSocketEndpoint class: on_connect (or accept),
/// on_receive per decoded message, the failure's 1011 and the close, then on_disconnect with
/// the close code.
Task<void> drive_websocket_endpoint(CallContext& ctx,
                                    std::string_view route,
                                    const WebSocketEndpointTable& table) {
    std::unique_ptr<void, void (*)(void*)> endpoint(table.make(*ctx.websocket), table.destroy);
    const Encoding encoding = table.encoding;
    const WebSocketCall on_connect = table.on_connect;
    const WebSocketCall on_receive = table.on_receive;
    const WebSocketCall on_disconnect = table.on_disconnect;
    WebSocket& ws = *ctx.websocket;
    void* target = endpoint.get();
    std::exception_ptr failure;
    try {
        if (!on_connect) {
            co_await ws.accept();
        } else if (Task<void> task; start(on_connect, target, ctx, task)) {
            co_await std::move(task);
        }
        while (ws.state() == WebSocket::State::connected) {
            auto message = co_await next_message(ws, encoding);
            if (!message) {
                break;
            }
            ctx.data = &*message;
            if (Task<void> task; start(on_receive, target, ctx, task)) {
                co_await std::move(task);
            }
        }
    } catch (...) {
        failure = std::current_exception();
    }
    if (failure) {
        co_await fail_websocket(ctx, route, failure);
    }
    co_await finish_websocket(ws);
    ctx.data = nullptr;
    ctx.code = ws.close_code();
    if (on_disconnect) {
        std::exception_ptr late;
        try {
            if (Task<void> task; start(on_disconnect, target, ctx, task)) {
                co_await std::move(task);
            }
        } catch (...) {
            late = std::current_exception();
        }
        if (late) {
            report_websocket_error(ws, route, late);
        }
    }
}

/// The handler of every WebSocketEndpoint route: the class's table.
class WebSocketEndpointRoute final : public WebSocketHandler {
public:
    explicit WebSocketEndpointRoute(const WebSocketEndpointTable& table) noexcept : table_(table) {}
    Task<void> run(CallContext& ctx, std::string_view route) override {
        return drive_websocket_endpoint(ctx, route, table_);
    }

private:
    const WebSocketEndpointTable& table_;
};

}  // namespace

std::unique_ptr<WebSocketHandler> websocket_endpoint_handler(const WebSocketEndpointTable& table) {
    return std::make_unique<WebSocketEndpointRoute>(table);
}

}  // namespace flamecpp::detail
