#pragma once

#include <string>

#include <boost/json/value.hpp>

namespace flamecpp::detail {

/// JSON text of `value`, numbers in their shortest decimal form ("1.5", not "1.5E0").
std::string serialize_json(const boost::json::value& value);

}  // namespace flamecpp::detail
