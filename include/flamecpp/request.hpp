#pragma once

/// @file
/// The request a handler receives.

#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <flamecpp/method.hpp>
#include <flamecpp/routing.hpp>

namespace flamecpp {

/// One request header field, as received (name case preserved).
struct HeaderField {
    std::string_view name;   ///< the field name, as the client wrote it
    std::string_view value;  ///< the value, without surrounding whitespace
};

/// One path parameter: its name in the route template and its percent-decoded value.
struct PathParam {
    std::string_view name;   ///< the name in the template: `id` for `{id:int}`
    std::string_view value;  ///< the segment (or rest of the path), percent-decoded
};

class App;
class Session;
class Sessions;

namespace detail {
class RequestBuilder;
}

/// A parsed HTTP request. The views it hands out stay valid while the handler runs.
///
/// @code
/// flamecpp::Response show(flamecpp::Request& request) {
///     auto agent = request.header("User-Agent").value_or("unknown");
///     return flamecpp::Response::text(std::string(agent));
/// }
/// @endcode
class Request {
public:
    /// The method; `Method::other` for any method outside `Method`'s list.
    Method method() const noexcept { return method_; }
    /// The method token as received ("GET", "PROPFIND").
    std::string_view method_name() const noexcept { return method_name_; }
    /// The request-target as received: path and query, still percent-encoded.
    std::string_view target() const noexcept { return target_; }
    /// The path part of the target, still percent-encoded.
    std::string_view raw_path() const noexcept { return raw_path_; }
    /// The query part of the target without the '?', still percent-encoded.
    std::string_view query_string() const noexcept { return query_string_; }
    /// 10 for HTTP/1.0, 11 for HTTP/1.1.
    unsigned version() const noexcept { return version_; }
    /// True when the connection stays open after this request (RFC 9112 9.3).
    bool keep_alive() const noexcept { return keep_alive_; }
    /// The request body (already de-chunked).
    std::string_view body() const noexcept { return body_; }
    /// All header fields in the order received.
    std::span<const HeaderField> headers() const noexcept { return headers_; }
    /// The first header named `name` (case-insensitive), if any.
    std::optional<std::string_view> header(std::string_view name) const noexcept;
    /// The path parameters of the matched route, in template order.
    std::span<const PathParam> path_params() const noexcept { return path_params_; }
    /// The percent-decoded path parameter `name`, if the route has one.
    std::optional<std::string_view> path_param(std::string_view name) const noexcept;
    /// The first query parameter `name`, percent-decoded ('+' as space), if present.
    std::optional<std::string> query(std::string_view name) const;
    /// Every value of the query parameter `name`, in order.
    std::vector<std::string> query_all(std::string_view name) const;
    /// The value of the cookie `name` from the Cookie header(s), without surrounding double
    /// quotes; the first one when the client sent the name twice. Valid during the request.
    std::optional<std::string_view> cookie(std::string_view name) const noexcept;
    /// The peer's address as "IP:port".
    std::string_view client() const noexcept { return client_; }
    /// `"http"`, or `"https"` for a request that came over TLS (or that a trusted proxy says
    /// came over TLS, see ProxyHeaders).
    std::string_view scheme() const noexcept { return scheme_; }

    /// For middleware that knows better than the connection (a reverse proxy's headers): what
    /// client() tells for the rest of this request.
    void set_client(std::string client);
    /// What scheme() tells for the rest of this request: `"http"` or `"https"` (also `"ws"`
    /// and `"wss"`, taken as their HTTP counterparts). Anything else is refused: returns false
    /// and changes nothing.
    bool set_scheme(std::string_view scheme) noexcept;

    /// The session the Sessions middleware loaded (<flamecpp/sessions.hpp>); throws
    /// std::logic_error when no Sessions middleware runs before the handler.
    Session& session() const;

    /// The absolute URL of the route named `name` (see App::url_path_for) for this request's
    /// scheme() and `Host` (`http://localhost` when it has none): what a page links to.
    std::string url_for(std::string_view name,
                        std::initializer_list<PathArgument> arguments = {}) const;
    /// The route template that matched ("/users/{id:int}"), empty before routing.
    std::string_view route() const noexcept { return route_; }

private:
    friend class detail::RequestBuilder;
    friend class Sessions;

    Method method_ = Method::get;
    unsigned version_ = 11;
    bool keep_alive_ = true;
    std::string_view method_name_;
    std::string_view target_;
    std::string_view raw_path_;
    std::string_view query_string_;
    std::string_view body_;
    std::string_view client_;
    std::string_view scheme_ = "http";
    std::string client_storage_;  // a client() set by middleware
    std::shared_ptr<Session> session_;
    const App* app_ = nullptr;  // the app serving the request, for url_for
    std::string_view route_;
    std::vector<HeaderField> headers_;
    std::vector<PathParam> path_params_;
};

}  // namespace flamecpp
