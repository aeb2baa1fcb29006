#pragma once

#include <stdexcept>
#include <string_view>

#include <boost/json/value.hpp>

namespace flamecpp::detail {

/// Thrown by parse_json: what is wrong with the document (simdjson's message).
class JsonError : public std::invalid_argument {
public:
    using std::invalid_argument::invalid_argument;
};

/// Parses `text` with simdjson (which also checks that it is UTF-8) into a Boost.JSON value.
/// Throws JsonError for anything that is not one valid JSON document.
boost::json::value parse_json(std::string_view text);

}  // namespace flamecpp::detail
