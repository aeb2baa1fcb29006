#pragma once

// The OpenAPI records of a route, checked when it is registered.

#include "routing/router.hpp"

namespace flamecpp::detail {

/// Throws std::invalid_argument naming the route when a pattern among its parameters' or
/// body fields' Rules is not a valid regular expression.
void check_route_docs(const Route& route);

}  // namespace flamecpp::detail
