#pragma once

/// @file
/// Route thunks of WebSocket routes: function views and WebSocketEndpoint classes. The loop
/// itself (decoding, close codes, failure handling) is in src/, shared by all of them.

#include <concepts>
#include <exception>
#include <optional>
#include <string_view>
#include <type_traits>

#include <flamecpp/detail/handler.hpp>
#include <flamecpp/detail/http_endpoint.hpp>
#include <flamecpp/endpoints.hpp>
#include <flamecpp/websocket.hpp>

namespace flamecpp::detail {

/// The next message decoded per `encoding`, or nullopt once the connection has closed. A
/// message that does not fit the encoding closes the connection with 1003 (nullopt).
Task<std::optional<Data>> next_message(WebSocket& ws, Encoding encoding);
/// After a handler threw: logs once, then closes with 1011 (or refuses the handshake with
/// 500 before accept).
Task<void> fail_websocket(WebSocket& ws, std::string_view route, std::exception_ptr error);
/// When a handler is done: closes with 1000 if still open, refuses with 403 if never
/// accepted.
Task<void> finish_websocket(WebSocket& ws);
/// Logs an exception thrown where nothing else can be done with it (on_disconnect) and
/// reports it to the server's error observer.
void report_websocket_error(WebSocket& ws,
                            std::string_view route,
                            std::exception_ptr error) noexcept;

/// The type-erased handler of one WebSocket route.
class WebSocketHandler {
public:
    virtual ~WebSocketHandler() = default;
    /// Drives one connection from handshake to close.
    virtual Task<void> run(CallContext& ctx, std::string_view route) = 0;
};

template <class P>
inline constexpr bool is_data_parameter = std::same_as<InjectorKey<P>, Data>;
template <class P>
inline constexpr bool is_websocket_parameter = std::same_as<InjectorKey<P>, WebSocket&>;

template <class Tuple>
struct TakesData;
template <class... P>
struct TakesData<std::tuple<P...>> {
    static constexpr bool value = (is_data_parameter<P> || ...);
    static constexpr bool websocket = (is_websocket_parameter<P> || ...);
};

template <class R, class Handler>
constexpr bool check_websocket_result() {
    static_assert(std::is_void_v<R>,
                  "flamecpp: a WebSocket handler returns nothing: make it void or Task<void> "
                  "(see 'R = ...' above) and send with the WebSocket.");
    return std::is_void_v<R>;
}

/// Compile-time checks of a WebSocket function view, at the user's `websocket_route()` call.
template <class F>
constexpr bool check_websocket_handler() {
    static_assert(HasKnownSignature<F>,
                  "flamecpp: the handler's signature cannot be read. Pass a function, a "
                  "non-generic lambda or a function object with one operator().");
    if constexpr (HasKnownSignature<F>) {
        using Traits = CallableTraits<std::decay_t<F>>;
        using Args = typename Traits::args;
        static_assert(TakesData<Args>::value || TakesData<Args>::websocket,
                      "flamecpp: a WebSocket function view takes WebSocket& (to own the "
                      "conversation) or Data (to be called once per message).");
        return ParametersCheck<F, Args, RouteKind::websocket>::value &&
               check_websocket_result<typename TaskResult<typename Traits::result>::type, F>();
    } else {
        return false;
    }
}

template <class F>
class FunctionWebSocketHandler final : public WebSocketHandler {
    using Traits = CallableTraits<F>;
    using Args = typename Traits::args;
    static constexpr bool per_message = TakesData<Args>::value;
    static constexpr bool returns_task = TaskResult<typename Traits::result>::is_task;

public:
    FunctionWebSocketHandler(F f, Encoding encoding) : f_(std::move(f)), encoding_(encoding) {}

    Task<void> run(CallContext& ctx, std::string_view route) override {
        WebSocket& ws = *ctx.websocket;
        std::exception_ptr failure;
        try {
            if constexpr (per_message) {
                co_await ws.accept();
                for (;;) {
                    auto message = co_await next_message(ws, encoding_);
                    if (!message) {
                        break;
                    }
                    ctx.data = &*message;
                    if constexpr (returns_task) {
                        // The handler's own task, awaited here: no frame in between.
                        auto task = invoke_injected<F&, F>(f_, ctx, static_cast<Args*>(nullptr));
                        co_await std::move(task);
                    } else {
                        invoke_injected<F&, F>(f_, ctx, static_cast<Args*>(nullptr));
                    }
                }
            } else {
                if constexpr (returns_task) {
                    auto task = invoke_injected<F&, F>(f_, ctx, static_cast<Args*>(nullptr));
                    co_await std::move(task);
                } else {
                    invoke_injected<F&, F>(f_, ctx, static_cast<Args*>(nullptr));
                }
            }
        } catch (...) {
            failure = std::current_exception();
        }
        if (failure) {
            co_await fail_websocket(ws, route, failure);
        }
        co_await finish_websocket(ws);
    }

    static Requirements requirements() { return RequirementsOf<Args>::collect(); }

private:
    F f_;
    Encoding encoding_;
};

// clang-format off
template <class E> concept HasOnConnect = requires { &E::on_connect; };
template <class E> concept HasOnReceive = requires { &E::on_receive; };
template <class E> concept HasOnDisconnect = requires { &E::on_disconnect; };
// clang-format on

template <auto Member, class E>
constexpr bool check_websocket_member() {
    using Traits = CallableTraits<decltype(Member)>;
    return ParametersCheck<E, typename Traits::args, RouteKind::websocket>::value &&
           check_websocket_result<typename TaskResult<typename Traits::result>::type, E>();
}

template <class E>
constexpr bool check_websocket_endpoint() {
    static_assert(std::derived_from<E, WebSocketEndpoint>,
                  "flamecpp: websocket_route<E>() takes a class derived from "
                  "flamecpp::WebSocketEndpoint.");
    static_assert(std::is_default_constructible_v<E>,
                  "flamecpp: a WebSocketEndpoint class is created per connection and must be "
                  "default-constructible; hold shared state in a component instead.");
    static_assert(HasOnReceive<E>,
                  "flamecpp: the WebSocketEndpoint class has no on_receive member. Add one, e.g. "
                  "Task<void> on_receive(WebSocket& ws, Data data).");
    static_assert(std::same_as<decltype(&E::encoding), const Encoding*>,  // static and an Encoding
                  "flamecpp: a WebSocketEndpoint's encoding is declared as "
                  "'static constexpr flamecpp::Encoding encoding = flamecpp::Encoding::text;'.");
    bool ok = true;
    if constexpr (HasOnConnect<E>)
        ok = ok && check_websocket_member<&E::on_connect, E>();
    if constexpr (HasOnReceive<E>)
        ok = ok && check_websocket_member<&E::on_receive, E>();
    if constexpr (HasOnDisconnect<E>)
        ok = ok && check_websocket_member<&E::on_disconnect, E>();
    return ok;
}

/// Calls one member of a WebSocketEndpoint. The endpoint comes type-erased: GCC 12 warns
/// (-Wsubobject-linkage) when a coroutine template's parameter has a type from an anonymous
/// namespace, which is where users define their endpoints.
template <auto Member, class E>
Task<void> call_websocket_member(void* object, CallContext& ctx) {
    // No named E& either: a reference to such a type in the frame warns the same way.
    using Traits = CallableTraits<decltype(Member)>;
    using Args = typename Traits::args;
    if constexpr (TaskResult<typename Traits::result>::is_task) {
        auto task = invoke_member<E, decltype(Member), E>(Member, *static_cast<E*>(object), ctx,
                                                          static_cast<Args*>(nullptr));
        co_await std::move(task);
    } else {
        invoke_member<E, decltype(Member), E>(Member, *static_cast<E*>(object), ctx,
                                              static_cast<Args*>(nullptr));
    }
}

template <auto Member>
inline constexpr bool member_returns_task =
    TaskResult<typename CallableTraits<decltype(Member)>::result>::is_task;

/// Calls a member that returns a Task and gives back that task (not a coroutine itself).
template <auto Member, class E>
Task<void> start_websocket_member(void* object, CallContext& ctx) {
    using Args = typename CallableTraits<decltype(Member)>::args;
    return invoke_member<E, decltype(Member), E>(Member, *static_cast<E*>(object), ctx,
                                                 static_cast<Args*>(nullptr));
}

template <class E>
class WebSocketEndpointHandler final : public WebSocketHandler {
public:
    Task<void> run(CallContext& ctx, std::string_view route) override {
        E endpoint{};
        endpoint.websocket_ = ctx.websocket;
        WebSocket& ws = *ctx.websocket;
        std::exception_ptr failure;
        try {
            if constexpr (HasOnConnect<E>) {
                co_await call_websocket_member<&E::on_connect, E>(&endpoint, ctx);
            } else {
                co_await ws.accept();
            }
            while (ws.state() == WebSocket::State::connected) {
                auto message = co_await next_message(ws, E::encoding);
                if (!message) {
                    break;
                }
                ctx.data = &*message;
                if constexpr (member_returns_task<&E::on_receive>) {
                    // on_receive's own task, awaited here: no frame in between.
                    auto task = start_websocket_member<&E::on_receive, E>(&endpoint, ctx);
                    co_await std::move(task);
                } else {
                    co_await call_websocket_member<&E::on_receive, E>(&endpoint, ctx);
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
        if constexpr (HasOnDisconnect<E>) {
            std::exception_ptr late;
            try {
                co_await call_websocket_member<&E::on_disconnect, E>(&endpoint, ctx);
            } catch (...) {
                late = std::current_exception();
            }
            if (late) {
                report_websocket_error(ws, route, late);
            }
        }
    }

    static Requirements requirements() {
        Requirements out;
        if constexpr (HasOnConnect<E>)
            append<&E::on_connect>(out);
        if constexpr (HasOnReceive<E>)
            append<&E::on_receive>(out);
        if constexpr (HasOnDisconnect<E>)
            append<&E::on_disconnect>(out);
        return out;
    }

private:
    template <auto Member>
    static void append(Requirements& out) {
        using Args = typename CallableTraits<decltype(Member)>::args;
        out.append(RequirementsOf<Args>::collect());
    }
};

}  // namespace flamecpp::detail
