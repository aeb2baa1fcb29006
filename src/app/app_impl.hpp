#pragma once

#include <array>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <flamecpp/app.hpp>

#include "app/exceptions.hpp"
#include "app/lifespan.hpp"
#include "app/mounts.hpp"
#include "app/pipeline.hpp"
#include "routing/router.hpp"

namespace flamecpp {

struct App::Impl {
    App* self = nullptr;  ///< for handlers taking App&; kept current when the App moves
    detail::Router router;
    Limits limits;
    std::string server_header = "flamecpp";
    bool redirect_slashes = true;
    std::vector<detail::FlagSpec> flags;  ///< the app's own, in declaration order
    std::string env_prefix = "FLAMECPP_";
    std::vector<detail::ComponentSlot> components;  ///< indexed by detail::component_id<T>()
    std::vector<detail::Middleware> middleware;     ///< in registration order: outermost first
    detail::ExceptionHandlers exception_handlers;
    detail::ExceptionHandlers websocket_exception_handlers;  ///< by type, choosing close codes
    /// The handler sets of an error outside any mount with handlers of its own.
    std::array<const detail::ExceptionHandlers*, 1> handler_chain{&exception_handlers};
    std::vector<detail::Hook> startup_hooks;   ///< in registration order
    std::vector<detail::Hook> shutdown_hooks;  ///< in registration order (run in reverse)
    std::vector<std::unique_ptr<detail::Mount>> mounts;
    std::map<std::string, const detail::Route*, std::less<>> route_names;
};

}  // namespace flamecpp

namespace flamecpp::detail {

/// Names `route` for url_path_for; throws std::invalid_argument when the name is taken.
void add_route_name(App::Impl& app, std::string name, Route& route);
/// Moves `router`'s routes and middleware into the app under `prefix` (App::mount).
void mount_router(App::Impl& app,
                  std::string_view prefix,
                  std::string_view name,
                  flamecpp::Router& router);
/// App::url_path_for.
std::string url_path_for(const App::Impl& app,
                         std::string_view name,
                         std::initializer_list<PathArgument> arguments);

}  // namespace flamecpp::detail
