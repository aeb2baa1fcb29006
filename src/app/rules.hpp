#pragma once

// Rules inside the library: the checks the injector calls, and pattern checks at registration.

#include <string>

#include <flamecpp/detail/inject.hpp>
#include <flamecpp/rules.hpp>

namespace flamecpp::detail {

/// Why `pattern` is not a valid regular expression; empty when it is.
std::string pattern_error(const Pattern& pattern);

}  // namespace flamecpp::detail
