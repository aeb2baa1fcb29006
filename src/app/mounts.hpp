#pragma once

// Mounted routers: what a Router holds until it is mounted, and what a mount is once the app
// has taken its routes.

#include <memory>
#include <span>
#include <string>
#include <vector>

#include <flamecpp/router.hpp>

#include "app/exceptions.hpp"
#include "app/pipeline.hpp"
#include "routing/router.hpp"

namespace flamecpp::detail {

/// A mount in the app: its full prefix and its own middleware. Routes under it point to it;
/// `layers` (set when the server starts) is the middleware of every mount from the outermost
/// to this one, what an answer under it passes inside the app's middleware.
struct Mount {
    std::string prefix;
    std::string name;  ///< the qualified name ("api", "api:admin"), or empty
    const Mount* parent = nullptr;
    std::vector<Middleware> middleware;
    std::vector<const Middleware*> layers;
    ExceptionHandlers exception_handlers;  ///< the router's own
    /// Set when the server starts, when this mount or one around it has exception handlers:
    /// the handler sets an error under it tries, innermost first, the app's last.
    std::vector<const ExceptionHandlers*> handler_chain;
};

/// A route a Router holds until it is mounted.
struct PendingRoute {
    std::string path;
    MethodSet methods;
    std::unique_ptr<RouteHandler> handler;        ///< HTTP routes
    std::unique_ptr<WebSocketHandler> websocket;  ///< WebSocket routes
    Requirements requirements;  ///< constexpr arrays of the handler's type: static storage
    OperationDocs docs;         ///< the same
    std::string name;
    RouteOptions options;
};

/// A router mounted into another before either reaches the app.
struct PendingMount {
    std::string prefix;
    std::string name;
    std::unique_ptr<flamecpp::Router> router;
};

/// Checks a mount prefix: a literal absolute path, without a trailing slash (the root is not
/// a prefix). Throws std::invalid_argument saying what is wrong.
void check_mount_prefix(std::string_view prefix);

/// The middleware layers of `mount`: its ancestors' middleware, outermost first, then its own.
std::vector<const Middleware*> mount_layers(const Mount& mount);

/// The exception handler sets an error under `mount` tries: its own, its ancestors', then
/// `app`'s; empty when only the app has handlers (the session then uses the app's alone).
std::vector<const ExceptionHandlers*> mount_handler_chain(const Mount& mount,
                                                          const ExceptionHandlers& app);

}  // namespace flamecpp::detail

namespace flamecpp {

struct Router::Impl {
    /// In registration order; exactly one of the two is set.
    struct Entry {
        std::unique_ptr<detail::PendingRoute> route;
        std::unique_ptr<detail::PendingMount> mount;
    };
    std::vector<Entry> entries;
    std::vector<detail::Middleware> middleware;
    detail::ExceptionHandlers exception_handlers;
};

}  // namespace flamecpp
