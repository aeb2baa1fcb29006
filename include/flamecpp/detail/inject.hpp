#pragma once

/// @file
/// The injector: resolves a handler's parameters from the request by their types.
/// Resolution is planned at compile time; each parameter costs only producing its value.

#include <charconv>
#include <concepts>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <flamecpp/http_exception.hpp>
#include <flamecpp/request.hpp>
#include <flamecpp/routing.hpp>
#include <flamecpp/websocket.hpp>

namespace flamecpp::detail {

/// Everything a parameter can be resolved from during one call.
struct CallContext {
    explicit CallContext(Request& r, WebSocket* ws = nullptr) noexcept
        : request(r), websocket(ws) {}

    Request& request;
    WebSocket* websocket;      ///< set on WebSocket routes
    Data* data = nullptr;      ///< the message being handled
    std::optional<Code> code;  ///< the close code, for on_disconnect
};

/// Which kind of route a parameter is asked for on: some exist only on WebSocket routes.
enum class RouteKind { http, websocket };

/// What a handler needs from its route, checked when the route is registered.
struct PathRequirement {
    std::string_view name;
    /// The convertors whose values convert to the parameter's type.
    bool accepts_int;
    bool accepts_float;
    bool accepts_text;
    std::string_view type_hint;  // "an integer", "a floating-point number", "a string"
};

/// `Injector<P>` says how to produce a parameter of type P. Specialise `get` and set
/// `available`; `describe` adds what the route must provide.
template <class P>
struct Injector {
    static constexpr bool available = false;
};

template <>
struct Injector<Request&> {
    static constexpr bool available = true;
    static Request& get(CallContext& ctx) noexcept { return ctx.request; }
    static void describe(std::vector<PathRequirement>&) {}
};

template <>
struct Injector<Request> : Injector<Request&> {};  // a `const Request&` parameter

template <>
struct Injector<WebSocket&> {
    static constexpr bool available = true;
    static constexpr bool websocket_only = true;
    static WebSocket& get(CallContext& ctx) noexcept { return *ctx.websocket; }
    static void describe(std::vector<PathRequirement>&) {}
};

/// The message being handled; moved into a by-value parameter.
template <>
struct Injector<Data> {
    static constexpr bool available = true;
    static constexpr bool websocket_only = true;
    static Data&& get(CallContext& ctx) noexcept { return std::move(*ctx.data); }
    static void describe(std::vector<PathRequirement>&) {}
};

/// The close code that ended the connection (for on_disconnect).
template <>
struct Injector<Code> {
    static constexpr bool available = true;
    static constexpr bool websocket_only = true;
    static Code get(CallContext& ctx) noexcept { return ctx.code.value_or(Code::no_status); }
    static void describe(std::vector<PathRequirement>&) {}
};

template <class T>
concept PathValue = std::same_as<T, std::string> || std::same_as<T, std::string_view> ||
    (std::is_arithmetic_v<T> && !std::same_as<T, bool>);

/// Parses the text of a path parameter into T; a value out of T's range is a 404,
/// as if the convertor had not matched.
template <PathValue T>
T convert_path_value(std::string_view text, std::string_view name) {
    if constexpr (std::same_as<T, std::string>) {
        return std::string(text);
    } else if constexpr (std::same_as<T, std::string_view>) {
        return text;
    } else {
        T value{};
        const auto* end = text.data() + text.size();
        auto [ptr, ec] = std::from_chars(text.data(), end, value);
        if (ec != std::errc{} || ptr != end) {
            throw HTTPException(Status::not_found,
                                "path parameter '" + std::string(name) + "' is out of range");
        }
        return value;
    }
}

template <FixedString Name, class T>
struct Injector<Path<Name, T>> {
    static_assert(PathValue<T>,
                  "flamecpp: Path<Name, T> takes T = std::string, std::string_view, an integer "
                  "or a floating-point type.");
    static constexpr bool available = true;

    static Path<Name, T> get(CallContext& ctx) {
        auto text = ctx.request.path_param(Name.view());
        return Path<Name, T>{convert_path_value<T>(text.value_or(std::string_view{}), Name.view())};
    }
    static void describe(std::vector<PathRequirement>& out) {
        constexpr bool is_int = std::is_integral_v<T>;
        constexpr bool is_float = std::is_floating_point_v<T>;
        out.push_back(PathRequirement{
            Name.view(), is_int || !(is_int || is_float), is_float || !(is_int || is_float),
            !(is_int || is_float),
            is_int ? "an integer" : (is_float ? "a floating-point number" : "a string")});
    }
};

/// The injector key of a declared parameter type: `Request&` stays a reference, everything
/// else (by value or by const reference) is looked up by its plain type.
template <class P>
using InjectorKey = std::conditional_t<std::is_lvalue_reference_v<P> &&
                                           !std::is_const_v<std::remove_reference_t<P>>,
                                       P,
                                       std::remove_cvref_t<P>>;

template <class P>
concept Injectable = Injector<InjectorKey<P>>::available;

template <class P>
concept WebSocketOnly = requires {
    requires Injector<InjectorKey<P>>::websocket_only;
};

/// Produces the argument for a parameter declared as `P` of handler `Handler`.
template <class P, class Handler>
decltype(auto) resolve(CallContext& ctx) {
    if constexpr (Injectable<P>) {
        return Injector<InjectorKey<P>>::get(ctx);
    } else {
        static_assert(dependent_false<P, Handler>,
                      "flamecpp: a handler parameter has a type the injector cannot provide "
                      "(see 'P = ...' above). Accepted: Request&, Path<\"name\", T>.");
    }
}

template <class Tuple>
struct Requirements;
template <class... P>
struct Requirements<std::tuple<P...>> {
    static std::vector<PathRequirement> collect() {
        std::vector<PathRequirement> out;
        (describe_one<P>(out), ...);
        return out;
    }
    template <class Q>
    static void describe_one(std::vector<PathRequirement>& out) {
        if constexpr (Injectable<Q>) {
            Injector<InjectorKey<Q>>::describe(out);
        }
    }
};

template <class P, class Handler, RouteKind Kind>
constexpr bool check_parameter() {
    static_assert(Injectable<P>,
                  "flamecpp: a handler parameter has a type the injector cannot provide "
                  "(see 'P = ...' above). Accepted: Request&, Path<\"name\", T>, and on "
                  "WebSocket routes WebSocket&, Data, Code.");
    static_assert(Kind == RouteKind::websocket || !WebSocketOnly<P>,
                  "flamecpp: WebSocket&, Data and Code exist only on WebSocket routes; register "
                  "this handler with websocket_route() (see 'P = ...' above).");
    return Injectable<P> && (Kind == RouteKind::websocket || !WebSocketOnly<P>);
}

template <class Handler, class Tuple, RouteKind Kind = RouteKind::http>
struct ParametersCheck;
template <class Handler, class... P, RouteKind Kind>
struct ParametersCheck<Handler, std::tuple<P...>, Kind> {
    static constexpr bool value = (check_parameter<P, Handler, Kind>() && ... && true);
};

}  // namespace flamecpp::detail
