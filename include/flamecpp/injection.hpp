#pragma once

/// @file
/// What a handler can ask for by the types of its parameters, besides `Request&` and
/// `Path<"name", T>` (routing.hpp): query parameters, headers, the client, the app, and app
/// components. JSON bodies are in <flamecpp/body.hpp>. docs/injection.md shows each.

#include <concepts>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <flamecpp/detail/default_arg.hpp>
#include <flamecpp/detail/fixed_string.hpp>
#include <flamecpp/detail/injected.hpp>
#include <flamecpp/rules.hpp>

namespace flamecpp {

/// The query parameter `Name` as `T`: `std::string`, an integer, a floating-point type, `bool`,
/// `std::optional<U>` (absent: empty) or `std::vector<U>` (every occurrence). A default makes
/// it optional: `Query<"limit", int, 10>`. Absent without a default, or not convertible to T:
/// 400 with `{"detail": ...}` naming the parameter. `Check` (flamecpp::Rules) bounds the
/// value, a 400 too; `flamecpp::no_default` stands for no default before it. The value is
/// `*q` (also `q->`, `q.value`).
///
/// @code
/// boost::json::value search(Query<"q"> q, Query<"limit", int, 10> limit);
/// Query<"limit", int, 50, flamecpp::Rules{.minimum = 1, .maximum = 100}> limit;
/// Query<"q", std::string, flamecpp::no_default, flamecpp::Rules{.max_length = 50}> q;
/// @endcode
template <detail::FixedString Name,
          class T = std::string,
          detail::DefaultArg Default = detail::DefaultArg{},
          Rules Check = Rules{}>
struct Query : detail::Injected<T> {
    static_assert(detail::default_fits<T>(Default),
                  "flamecpp: the default of a Query<Name, T, Default> must fit T (an integer "
                  "for integers, a number for floating-point, true/false for bool, a string "
                  "literal for std::string).");
    /// The query parameter's name, `Name`.
    static constexpr std::string_view name = Name.view();
};

/// The request header `Name` (case-insensitive) as `T`, with the same types, defaults and
/// errors as Query; `std::string_view` is allowed too (valid during the request). The value
/// is `*h` (also `h->`, `h.value`).
///
/// @code
/// Response who(Header<"User-Agent", std::optional<std::string>> agent);
/// @endcode
template <detail::FixedString Name,
          class T = std::string,
          detail::DefaultArg Default = detail::DefaultArg{},
          Rules Check = Rules{}>
struct Header : detail::Injected<T> {
    static_assert(detail::default_fits<T>(Default),
                  "flamecpp: the default of a Header<Name, T, Default> must fit T (an integer "
                  "for integers, a number for floating-point, true/false for bool, a string "
                  "literal for std::string or std::string_view).");
    /// The header's name, `Name`.
    static constexpr std::string_view name = Name.view();
};

/// The request cookie `Name` (from the Cookie header) as `T`, with the same types, defaults
/// and errors as Header. The value is `*c` (also `c->`, `c.value`).
///
/// @code
/// Response me(Cookie<"session", std::optional<std::string>> session);
/// @endcode
template <detail::FixedString Name,
          class T = std::string,
          detail::DefaultArg Default = detail::DefaultArg{},
          Rules Check = Rules{}>
struct Cookie : detail::Injected<T> {
    static_assert(detail::default_fits<T>(Default),
                  "flamecpp: the default of a Cookie<Name, T, Default> must fit T (an integer "
                  "for integers, a number for floating-point, true/false for bool, a string "
                  "literal for std::string or std::string_view).");
    /// The cookie's name, `Name`.
    static constexpr std::string_view name = Name.view();
};

/// No default, in a Query, Header or Cookie that gives Rules: `Query<"q", std::string,
/// flamecpp::no_default, flamecpp::Rules{.min_length = 1}>`.
inline constexpr detail::DefaultArg no_default{};

/// The peer of the connection, as a handler parameter: Request::client().
struct Client {
    /// "IP:port" of the peer (behind trusted proxies, the client ProxyHeaders found); valid
    /// during the request.
    std::string_view address;
};

/// Marks a class as an app component: handlers take it by reference (`Counter&`) or by value,
/// and the app registers it with `App::component` (a shared instance, or a factory run per
/// request). A handler asking for a component the app lacks stops `run()` before it listens,
/// naming the route and the type.
///
/// @code
/// struct Counter : flamecpp::Component { std::atomic<int> next{1}; };
/// app.component(std::make_shared<Counter>());
/// @endcode
struct Component {};

/// Specialize to `true` to use a class you cannot derive from (a connection pool from another
/// library) as a component.
template <class T>
inline constexpr bool enable_component = std::derived_from<T, Component>;

}  // namespace flamecpp
