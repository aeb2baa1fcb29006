#pragma once

/// @file
/// Routers, mounted into an app at a prefix (FastAPI's APIRouter, Starlette's Mount), and the
/// arguments of reverse routing (App::url_path_for, Request::url_for).
///
/// @code
/// flamecpp::Router api;
/// api.middleware(version_header);                   // only for answers under the mount
/// api.route("/items", list_items, {flamecpp::Method::get}, "items");
/// api.route("/items/{id:int}", get_item, {flamecpp::Method::get}, "item");
/// app.mount("/api/v1", std::move(api), "api");      // /api/v1/items, named "api:items"
/// app.url_path_for("api:item", {{"id", 7}});         // "/api/v1/items/7"
/// @endcode

#include <memory>
#include <string>
#include <string_view>

#include <flamecpp/registrar.hpp>
#include <flamecpp/routing.hpp>

namespace flamecpp {

class App;

/// A group of routes, WebSocket routes, middleware and mounted routers, registered like an
/// app's and mounted into one with App::mount (or into another router with Router::mount).
/// Its routes join the app's table with the prefix in front, so the table's checks
/// (shadowing, duplicates) see through mounts. Its middleware runs inside the app's, for every
/// answer under the prefix: its routes, and the 404 and 405 of paths under it.
///
/// A router has App's registration calls (Registrar), which return the router: `route`,
/// `websocket_route`, `exception_handler` and `middleware`. Its exception
/// handlers answer for its routes and the paths under its mount first; what they do not
/// handle goes to the app's. Its route names are qualified with the mount's name in the app
/// (`api:items`), where they must be unique.
class Router : public Registrar<Router> {
public:
    /// An empty router.
    Router();
    /// Destroys what the router holds (a mounted router has handed it to the app).
    ~Router();
    /// Takes the other router's routes, middleware and handlers; the router moved from may
    /// only be destroyed or assigned to.
    Router(Router&&) noexcept;
    /// Takes the other router's routes, middleware and handlers, as the move constructor.
    Router& operator=(Router&&) noexcept;

    /// Mounts `router` at `prefix` within this router (see App::mount).
    Router& mount(std::string_view prefix, Router router, std::string_view name = {});

    /// Internal: the router's state, defined inside the library (an incomplete type to
    /// applications).
    struct Impl;
    /// Internal: the state App::mount takes.
    Impl& impl() noexcept { return *impl_; }

private:
    friend class Registrar<Router>;
    void add_route(std::string_view path,
                   MethodSet methods,
                   std::unique_ptr<detail::RouteHandler> handler,
                   detail::Requirements requirements,
                   detail::OperationDocs docs,
                   std::string_view name,
                   const RouteOptions* options);
    void add_websocket_route(std::string_view path,
                             std::unique_ptr<detail::WebSocketHandler> handler,
                             detail::Requirements requirements,
                             std::string_view name);
    void add_middleware(std::unique_ptr<detail::MiddlewareHandler> handler,
                        detail::Requirements requirements);
    void add_exception_handler(const detail::ExceptionType& type,
                               std::unique_ptr<detail::RouteHandler> handler,
                               detail::Requirements requirements);
    void add_status_handler(Status status,
                            std::unique_ptr<detail::RouteHandler> handler,
                            detail::Requirements requirements);

    std::unique_ptr<Impl> impl_;
};

}  // namespace flamecpp
