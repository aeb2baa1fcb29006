#pragma once

#include <string>
#include <vector>

#include <flamecpp/app.hpp>

#include "app/exceptions.hpp"
#include "app/lifespan.hpp"
#include "app/pipeline.hpp"
#include "routing/router.hpp"

namespace flamecpp {

struct App::Impl {
    App* self = nullptr;  ///< for handlers taking App&; kept current when the App moves
    detail::Router router;
    Limits limits;
    std::string server_header = "flamecpp";
    std::vector<detail::ComponentSlot> components;  ///< indexed by detail::component_id<T>()
    std::vector<detail::Middleware> middleware;     ///< in registration order: outermost first
    detail::ExceptionHandlers exception_handlers;
    std::vector<detail::Hook> startup_hooks;   ///< in registration order
    std::vector<detail::Hook> shutdown_hooks;  ///< in registration order (run in reverse)
};

}  // namespace flamecpp
