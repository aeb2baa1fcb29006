#pragma once

/// @file
/// Route thunks of WebSocket routes: function views and WebSocketEndpoint classes. The loop
/// itself (decoding, close codes, failure handling) is in src/, shared by all of them.

#include <concepts>
#include <exception>
#include <memory>
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
/// After a handler threw: the app's WebSocket exception handler for the error's type chooses
/// the close code; without one it is logged once and the connection closes with 1011 (or the
/// handshake is refused with 500 before accept).
Task<void> fail_websocket(CallContext& ctx, std::string_view route, std::exception_ptr error);
/// When a handler is done: closes with 1000 if still open, refuses with 403 if never
/// accepted.
Task<void> finish_websocket(WebSocket& ws);
/// Logs an exception thrown where nothing else can be done with it (on_disconnect) and
/// reports it to the server's error observer.
void report_websocket_error(WebSocket& ws,
                            std::string_view route,
                            std::exception_ptr error) noexcept;

/// One call of a WebSocket view or endpoint member, type-erased: a plain call (`call`), or
/// one that gives back the handler's own task (`start`), to be awaited with no frame in
/// between. At most one is set; neither: the member does not exist.
struct WebSocketCall {
    void (*call)(void* target, CallContext& ctx) = nullptr;
    Task<void> (*start)(void* target, CallContext& ctx) = nullptr;
    explicit operator bool() const noexcept { return call != nullptr || start != nullptr; }
};

/// Drives a function view on its connection (src/websocket_drive.cpp): once, owning the
/// conversation, or (`per_message`) after accepting, once per message decoded per
/// `encoding`; then a failure's 1011 and the close.
Task<void> drive_websocket_view(CallContext& ctx,
                                std::string_view route,
                                void* view,
                                WebSocketCall call,
                                bool per_message,
                                Encoding encoding);

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
        return ParametersCheck<F, Args, Caller::websocket>::value &&
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

    /// Not a coroutine: the loop is compiled once, in the library.
    Task<void> run(CallContext& ctx, std::string_view route) override {
        WebSocketCall call;
        if constexpr (returns_task) {
            call.start = [](void* self, CallContext& c) -> Task<void> {
                auto& handler = *static_cast<FunctionWebSocketHandler*>(self);
                return invoke_injected(handler.f_, c, static_cast<Args*>(nullptr));
            };
        } else {
            call.call = [](void* self, CallContext& c) {
                auto& handler = *static_cast<FunctionWebSocketHandler*>(self);
                invoke_injected(handler.f_, c, static_cast<Args*>(nullptr));
            };
        }
        return drive_websocket_view(ctx, route, this, call, per_message, encoding_);
    }

    static Requirements requirements() noexcept { return RequirementsOf<Args>::value; }

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
    return ParametersCheck<E, typename Traits::args, Caller::websocket>::value &&
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

template <auto Member>
inline constexpr bool member_returns_task =
    TaskResult<typename CallableTraits<decltype(Member)>::result>::is_task;

/// The type-erased call of one member of a WebSocketEndpoint E on the instance `target`.
template <auto Member, class E>
constexpr WebSocketCall websocket_member_call() {
    using Args = typename CallableTraits<decltype(Member)>::args;
    WebSocketCall out;
    if constexpr (member_returns_task<Member>) {
        out.start = [](void* target, CallContext& ctx) -> Task<void> {
            return invoke_member(Member, *static_cast<E*>(target), ctx,
                                 static_cast<Args*>(nullptr));
        };
    } else {
        out.call = [](void* target, CallContext& ctx) {
            invoke_member(Member, *static_cast<E*>(target), ctx, static_cast<Args*>(nullptr));
        };
    }
    return out;
}

/// Makes the instance of E for one connection (WebSocketEndpoint befriends this: E{} may need
/// its protected constructor).
struct WebSocketEndpointAccess {
    template <class E>
    static void* make(WebSocket& ws) {
        auto* endpoint = new E{};
        endpoint->websocket_ = &ws;
        return endpoint;
    }
};

/// A WebSocketEndpoint class, type-erased at compile time: how to make and destroy the
/// instance of one connection, its encoding and its members. One library handler drives
/// every class through this.
struct WebSocketEndpointTable {
    void* (*make)(WebSocket& ws) = nullptr;
    void (*destroy)(void* endpoint) = nullptr;
    Encoding encoding = Encoding::none;
    WebSocketCall on_connect;
    WebSocketCall on_receive;
    WebSocketCall on_disconnect;
};

/// The library's handler of every WebSocketEndpoint class (src/websocket_drive.cpp).
std::unique_ptr<WebSocketHandler> websocket_endpoint_handler(const WebSocketEndpointTable& table);

template <class E>
inline constexpr WebSocketEndpointTable websocket_endpoint_table = [] {
    WebSocketEndpointTable table;
    table.make = &WebSocketEndpointAccess::make<E>;
    table.destroy = [](void* endpoint) { delete static_cast<E*>(endpoint); };
    table.encoding = E::encoding;
    if constexpr (HasOnConnect<E>) {
        table.on_connect = websocket_member_call<&E::on_connect, E>();
    }
    table.on_receive = websocket_member_call<&E::on_receive, E>();
    if constexpr (HasOnDisconnect<E>) {
        table.on_disconnect = websocket_member_call<&E::on_disconnect, E>();
    }
    return table;
}();

/// The parameter types of a WebSocketEndpoint member, or none when E lacks it.
template <class E, bool Has, auto Member>
struct WebSocketMemberArgs {
    using type = std::tuple<>;
};
template <class E, auto Member>
struct WebSocketMemberArgs<E, true, Member> {
    using type = typename CallableTraits<decltype(Member)>::args;
};

template <class E>
constexpr auto on_connect_member() {
    if constexpr (HasOnConnect<E>) {
        return &E::on_connect;
    } else {
        return 0;
    }
}
template <class E>
constexpr auto on_disconnect_member() {
    if constexpr (HasOnDisconnect<E>) {
        return &E::on_disconnect;
    } else {
        return 0;
    }
}

/// Everything the members of WebSocketEndpoint E need from the route and the app.
template <class E>
using WebSocketEndpointRequirements = JoinedRequirements<
    typename WebSocketMemberArgs<E, HasOnConnect<E>, on_connect_member<E>()>::type,
    typename CallableTraits<decltype(&E::on_receive)>::args,
    typename WebSocketMemberArgs<E, HasOnDisconnect<E>, on_disconnect_member<E>()>::type>;

}  // namespace flamecpp::detail
