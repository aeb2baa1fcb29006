#pragma once

#include <string>
#include <typeinfo>
#include <vector>

#include <flamecpp/detail/components.hpp>
#include <flamecpp/detail/inject.hpp>

#include "routing/router.hpp"

namespace flamecpp::detail {

/// Checks, before the server listens, that every component a route needs is registered and
/// that factories do not depend on each other in a cycle; marks which routes must make
/// per-request components first. Throws std::invalid_argument naming the route and the type.
void validate_components(std::vector<std::unique_ptr<Route>>& routes,
                         const std::vector<ComponentSlot>& slots);

/// The readable (demangled) name of a type, for messages.
std::string type_name(const std::type_info* type);

/// What checking one user's components found.
struct ComponentNeeds {
    bool any_factory = false;  ///< a factory component must be made before the call
    bool any_async = false;    ///< ... and one of them is a coroutine
};

/// As validate_components, for one user of components (`user` names it in the error).
ComponentNeeds validate_needs(const std::vector<ComponentRequirement>& needs,
                              const std::vector<ComponentSlot>& slots,
                              const std::string& user);

/// Makes this call's per-request components, dependencies first, without suspending. False
/// when a coroutine factory is in the way: then `prepare_components` must be awaited.
bool prepare_components_now(CallContext& ctx, const std::vector<ComponentRequirement>& needs);
Task<void> prepare_components(CallContext& ctx, const std::vector<ComponentRequirement>& needs);

}  // namespace flamecpp::detail
