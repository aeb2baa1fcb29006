#pragma once

/// @file
/// The registration calls an App and a Router share: routes, WebSocket routes, exception
/// handlers, middleware. Each checks the handler at compile time and hands the library a
/// type-erased handler and its requirements (`Self::add_route`, `add_websocket_route`,
/// `add_middleware`).

#include <memory>
#include <string_view>
#include <type_traits>
#include <utility>

#include <flamecpp/detail/exception_handler.hpp>
#include <flamecpp/detail/handler.hpp>
#include <flamecpp/detail/http_endpoint.hpp>
#include <flamecpp/detail/route_literal.hpp>
#include <flamecpp/detail/websocket_handler.hpp>
#include <flamecpp/method.hpp>
#include <flamecpp/routing.hpp>
#include <flamecpp/status.hpp>

namespace flamecpp {

/// The registration calls of App and Router (`Self`), which derive from it: `route`,
/// `websocket_route`, `exception_handler` and `middleware`. Each returns `Self&`, so calls
/// chain. Applications do not name this class; they call its members on an App or a Router.
template <class Self>
class Registrar {
public:
    /// Registers a function view (plain function, lambda, or coroutine) for `methods`.
    /// HEAD is served by the GET handler when no HEAD handler is registered. `name` names the
    /// route for url_path_for (unique in the app; a mounted router's names are qualified
    /// with the mount's: `api:items`). `options`: the route's body limit and its entry in the
    /// OpenAPI schema (RouteOptions).
    template <class F>
    Self& route(std::string_view path,
                F handler,
                MethodSet methods = {Method::get},
                std::string_view name = {}) {
        return add_view(path, std::move(handler), methods, name, nullptr);
    }

    /// As `route(path, handler, methods, name)`, with the route's settings.
    /// (Two overloads rather than a default argument: a call without settings then builds no
    /// RouteOptions, whose strings and vectors would cost code in every caller.)
    template <class F>
    Self& route(std::string_view path,
                F handler,
                MethodSet methods,
                std::string_view name,
                const RouteOptions& options) {
        return add_view(path, std::move(handler), methods, name, &options);
    }

    /// As `route(path, handler, methods, name)`, with the template checked at compile time:
    /// a `Path<"name", T>` parameter the template lacks, or whose T does not fit the
    /// convertor, does not compile.
    ///
    /// @code
    /// app.route<"/users/{user_id:int}">(user);
    /// @endcode
    template <detail::FixedString Pattern, class F>
    Self& route(F handler, MethodSet methods = {Method::get}, std::string_view name = {}) {
        static_assert(detail::check_route_literal<Pattern, std::decay_t<F>>());
        return add_view(Pattern.view(), std::move(handler), methods, name, nullptr);
    }

    /// As `route<Pattern>(handler, methods, name)`, with the route's settings.
    template <detail::FixedString Pattern, class F>
    Self& route(F handler, MethodSet methods, std::string_view name, const RouteOptions& options) {
        static_assert(detail::check_route_literal<Pattern, std::decay_t<F>>());
        return add_view(Pattern.view(), std::move(handler), methods, name, &options);
    }

    /// As `route<E>(path, name)`, with the template checked against every member at compile
    /// time.
    template <class E, detail::FixedString Pattern>
    Self& route(std::string_view name = {}) {
        static_assert(detail::check_endpoint_literal<Pattern, E>());
        return add_endpoint<E>(Pattern.view(), name, nullptr);
    }

    /// As `route<E, Pattern>(name)`, with the route's settings.
    template <class E, detail::FixedString Pattern>
    Self& route(std::string_view name, const RouteOptions& options) {
        static_assert(detail::check_endpoint_literal<Pattern, E>());
        return add_endpoint<E>(Pattern.view(), name, &options);
    }

    /// Registers an HTTPEndpoint class; its methods are known at compile time. Its
    /// `get_doc`, `post_doc`, ... (static `flamecpp::Operation` members) document each verb.
    template <class E>
    Self& route(std::string_view path, std::string_view name = {}) {
        return add_endpoint<E>(path, name, nullptr);
    }

    /// As `route<E>(path, name)`, with the route's settings.
    template <class E>
    Self& route(std::string_view path, std::string_view name, const RouteOptions& options) {
        return add_endpoint<E>(path, name, &options);
    }

    /// Registers a WebSocket function view. One taking `WebSocket&` (and no `Data`) owns the
    /// conversation: it accepts, loops on receive, and the connection closes when it returns.
    /// One taking `Data` is called once per message, after the framework has accepted,
    /// with messages decoded per `encoding`.
    template <class F>
    Self& websocket_route(std::string_view path,
                          F handler,
                          Encoding encoding = Encoding::none,
                          std::string_view name = {}) {
        static_assert(detail::check_websocket_handler<F>());
        using H = detail::FunctionWebSocketHandler<std::decay_t<F>>;
        self().add_websocket_route(
            path, std::unique_ptr<detail::WebSocketHandler>(new H(std::move(handler), encoding)),
            H::requirements(), name);
        return self();
    }

    /// Registers a WebSocketEndpoint class; one instance serves each connection.
    template <class E>
    Self& websocket_route(std::string_view path, std::string_view name = {}) {
        static_assert(detail::check_websocket_endpoint<E>());
        self().add_websocket_route(
            path, detail::websocket_endpoint_handler(detail::websocket_endpoint_table<E>),
            detail::WebSocketEndpointRequirements<E>::value, name);
        return self();
    }

    /// Registers the handler of exceptions of type T (or derived from it) thrown by handlers
    /// and middleware; the most derived registered type wins. A router's handlers answer for
    /// its routes and the paths under its mount first; what they do not handle goes to the
    /// app's. `handler` (plain or coroutine)
    /// takes a `const T&` parameter for the exception, any injectable parameter besides, and
    /// returns anything a route handler may return. See docs/errors.md.
    ///
    /// @code
    /// app.exception_handler<NotFoundInDb>([](const NotFoundInDb& e) {
    ///     return flamecpp::Response::text(e.what(), flamecpp::Status::not_found);
    /// });
    /// @endcode
    template <class T, class F>
    Self& exception_handler(F handler) {
        static_assert(detail::check_exception_handler<T, F>());
        using H = detail::ExceptionHandler<T, std::decay_t<F>>;
        self().add_exception_handler(
            detail::exception_type<T>,
            std::unique_ptr<detail::RouteHandler>(new H(std::move(handler))), H::requirements());
        return self();
    }

    /// Registers the handler that makes every answer of `status`: HTTPExceptions of that
    /// status, the app's own 404 and 405 (and 400 for an undecodable path), and for 500 every
    /// exception no type handler takes (after it is logged). `handler` may take a
    /// `const HTTPException&` (the status, detail and headers) and injectable parameters.
    template <class F>
    Self& exception_handler(Status status, F handler) {
        static_assert(detail::check_exception_handler<HTTPException, F>());
        using H = detail::ExceptionHandler<HTTPException, std::decay_t<F>>;
        self().add_status_handler(status,
                                  std::unique_ptr<detail::RouteHandler>(new H(std::move(handler))),
                                  H::requirements());
        return self();
    }

    /// Adds a middleware (see <flamecpp/middleware.hpp>): a function (plain or coroutine)
    /// taking `flamecpp::Next` and injected parameters, returning `Task<Response>`. Requests
    /// meet middleware in registration order, answers in the reverse order; every answer
    /// passes through, routed or not (404, 405, OPTIONS, 500, a WebSocket upgrade). A
    /// router's middleware runs inside the app's, for the answers under its mount.
    template <class F>
    Self& middleware(F function) {
        static_assert(detail::check_middleware<F>());
        using H = detail::FunctionMiddleware<std::decay_t<F>>;
        self().add_middleware(
            std::unique_ptr<detail::MiddlewareHandler>(new H(std::move(function))),
            H::requirements());
        return self();
    }

protected:
    /// Made only as the base of an App or a Router.
    Registrar() = default;
    /// Not virtual: nothing is deleted through a Registrar.
    ~Registrar() = default;
    /// Copied with its App or Router.
    Registrar(const Registrar&) = default;
    /// Moved with its App or Router.
    Registrar(Registrar&&) noexcept = default;
    /// Assigned with its App or Router.
    Registrar& operator=(const Registrar&) = default;
    /// Move-assigned with its App or Router.
    Registrar& operator=(Registrar&&) noexcept = default;

private:
    Self& self() noexcept { return static_cast<Self&>(*this); }

    template <class F>
    Self& add_view(std::string_view path,
                   F handler,
                   MethodSet methods,
                   std::string_view name,
                   const RouteOptions* options) {
        static_assert(detail::check_handler<F>());
        using H = detail::FunctionHandler<std::decay_t<F>>;
        self().add_route(path, methods,
                         std::unique_ptr<detail::RouteHandler>(new H(std::move(handler))),
                         H::requirements(), H::docs(), name, options);
        return self();
    }

    template <class E>
    Self& add_endpoint(std::string_view path, std::string_view name, const RouteOptions* options) {
        static_assert(detail::check_endpoint<E>());
        self().add_route(path, detail::endpoint_methods<E>(),
                         detail::endpoint_handler(detail::endpoint_table<E>),
                         detail::EndpointRequirements<E>::Joined::value,
                         detail::EndpointDocs<E>::docs, name, options);
        return self();
    }
};

}  // namespace flamecpp
