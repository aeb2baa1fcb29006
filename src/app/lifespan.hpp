#pragma once

#include <memory>
#include <string>
#include <vector>

#include <flamecpp/detail/components.hpp>
#include <flamecpp/detail/handler.hpp>

namespace flamecpp::detail {

/// One startup or shutdown hook, as App::on_startup/on_shutdown registered it.
struct Hook {
    std::string name;  ///< the user's, or "startup hook #N"
    std::unique_ptr<RouteHandler> handler;
    std::vector<ComponentRequirement> components;
};

}  // namespace flamecpp::detail
