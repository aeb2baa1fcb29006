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
#include <vector>

#include <flamecpp/detail/doc.hpp>
#include <flamecpp/detail/fixed_string.hpp>
#include <flamecpp/detail/injected.hpp>
#include <flamecpp/rules.hpp>
#include <flamecpp/status.hpp>

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
/// `Rules` (3rd argument) bound the value: `Path<"id", int, Rules{.minimum = 1}>` answers 400
/// for 0.
template <detail::FixedString Name, class T = std::string, Rules Check = Rules{}>
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

/// One answer an operation may give, for the OpenAPI schema: made by `responds<T>(status)`
/// (a JSON body of type T) or `responds(status)` (no body, or one the schema does not
/// describe).
struct ResponseDoc {
    /// The status of the answer.
    Status status = Status::ok;
    /// What the answer means; the status's reason phrase when empty.
    std::string description{};
    /// The body's JSON shape; none for an answer without a described body.
    detail::TypeDocFn schema = nullptr;
    /// Headers the answer carries (`Location`), documented as strings.
    std::vector<std::string> headers{};
};

/// An answer with a JSON body of type T (a described struct, a vector of one, a number, ...).
///
/// @code
/// {.doc = {.responses = {flamecpp::responds<Todo>(flamecpp::Status::created, "Created",
///                                                  {"Location"})}}}
/// @endcode
template <class T>
ResponseDoc responds(Status status,
                     const std::string& description = {},
                     const std::vector<std::string>& headers = {}) {
    return ResponseDoc{.status = status,
                       .description = description,
                       .schema = detail::known_type_doc<T>(),
                       .headers = headers};
}

/// An answer without a described body (204, a redirect, a file).
inline ResponseDoc responds(Status status,
                            std::string description = {},
                            std::vector<std::string> headers = {}) {
    return ResponseDoc{
        .status = status, .description = std::move(description), .headers = std::move(headers)};
}

/// What the OpenAPI schema says about an operation beyond what the handler's types say: set
/// in RouteOptions::doc where a route is registered, or as a static member `get_doc`,
/// `post_doc`, ... of an HTTPEndpoint class for one verb (whose set fields win).
struct Operation {
    /// One line: what the operation does.
    std::string summary{};
    /// More, in CommonMark.
    std::string description{};
    /// Groups in the docs page.
    std::vector<std::string> tags{};
    /// Marks the operation as one to stop using.
    bool deprecated = false;
    /// The operation's id; made from the route's name (or method and path) when empty.
    std::string operation_id{};
    /// Answers besides the one the handler's return type gives (a handler returning a
    /// described struct documents 200 with it; the 400 and 415 the framework gives itself are
    /// documented too).
    std::vector<ResponseDoc> responses{};
    /// False leaves the route out of the schema.
    bool include_in_schema = true;
};

/// Settings of one route, the last argument of `route()`.
///
/// @code
/// app.route("/upload", upload, {flamecpp::Method::post}, "upload",
///           {.max_body_bytes = std::size_t{100} * 1024 * 1024});
/// app.route("/todos", list_todos, {flamecpp::Method::get}, "todos",
///           {.doc = {.summary = "List todos", .tags = {"todos"}}});
/// @endcode
struct RouteOptions {
    /// The largest request body the route takes, declared or streamed; the app's
    /// Limits::max_body_bytes when empty. Over it: 413 and the connection closed, as soon as
    /// the declared length or the bytes received cross it.
    std::optional<std::size_t> max_body_bytes{};
    /// The route's entry in the OpenAPI schema (<flamecpp/openapi.hpp>).
    Operation doc{};
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
