#pragma once

/// @file
/// Typed path parameters. Route templates use `{name}`, `{name:str}`, `{name:int}`,
/// `{name:float}`, `{name:uuid}` and `{name:path}` (the rest of the path, slashes included).

#include <charconv>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <flamecpp/detail/fixed_string.hpp>
#include <flamecpp/detail/injected.hpp>

namespace flamecpp {

/// The path parameter `Name` of the matched route, converted to `T`.
///
/// `T` must fit the parameter's convertor: `{x:int}` takes integral types, `{x:float}`
/// floating-point types, the others `std::string` or `std::string_view`. A mismatch of name
/// or type is reported when the route is registered. The value is `*id` (also `id->`,
/// `id.value`).
///
/// @code
/// flamecpp::Response user(flamecpp::Path<"user_id", int> id) { ... *id ... }
/// app.route("/users/{user_id:int}", user);
/// @endcode
template <detail::FixedString Name, class T = std::string>
struct Path : detail::Injected<T> {
    /// The parameter's name in the route template, `Name`.
    static constexpr std::string_view name = Name.view();
};

namespace detail {
template <class N>
concept PathNumber = (std::integral<N> || std::floating_point<N>)&&!std::same_as<N, bool>;
}  // namespace detail

/// One path parameter for reverse routing: `{"id", 7}`, `{"slug", "hello"}`. Numbers are
/// written as the `int` and `float` convertors read them.
struct PathArgument {
    /// The parameter `parameter` with the text `text` (percent-encoded by url_path_for).
    PathArgument(std::string_view parameter, std::string_view text)
        : name(parameter), value(text) {}
    /// The parameter `parameter` with the text `text`, a C string.
    PathArgument(std::string_view parameter, const char* text) : name(parameter), value(text) {}
    /// The parameter `parameter` with a number (an integer or floating-point type, not bool),
    /// written by std::to_chars.
    template <detail::PathNumber N>
    PathArgument(std::string_view parameter, N number) : name(parameter) {
        char buffer[64];
        auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, number);
        value.assign(buffer, end);
    }

    /// The parameter's name in the route template; a view of the caller's string.
    std::string_view name;
    /// The value as text, not yet percent-encoded.
    std::string value;
};

/// Settings of one route, the last argument of `route()`.
///
/// @code
/// app.route("/upload", upload, {flamecpp::Method::post}, "upload",
///           {.max_body_bytes = std::size_t{100} * 1024 * 1024});
/// @endcode
struct RouteOptions {
    /// The largest request body the route takes, declared or streamed; the app's
    /// Limits::max_body_bytes when empty. Over it: 413 and the connection closed, as soon as
    /// the declared length or the bytes received cross it.
    std::optional<std::size_t> max_body_bytes;
};

/// The kind of a path parameter, from the text after ':' in its template.
enum class Convertor : std::uint8_t {
    str,     ///< `{name}` or `{name:str}`: one non-empty segment
    int_,    ///< `{name:int}`: digits only
    float_,  ///< `{name:float}`: `123` or `1.5`
    uuid,    ///< `{name:uuid}`: 8-4-4-4-12 hex digits
    path     ///< `{name:path}`: the rest of the path, slashes included (may be empty); last only
};

}  // namespace flamecpp
