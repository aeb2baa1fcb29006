// simdjson is the parser (the project's fixed choice: fast, validating, UTF-8 checking);
// Boost.JSON is the value type handlers see. This is the only place the two meet.
#include "json/reader.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <simdjson.h>

namespace flamecpp::detail {
namespace {

/// Recursion is bounded by the parser's max depth (simdjson's default: 1024 levels).
boost::json::value convert(simdjson::dom::element element) {
    switch (element.type()) {
        case simdjson::dom::element_type::ARRAY: {
            boost::json::array out;
            simdjson::dom::array in = element.get_array().value_unsafe();
            out.reserve(in.size());
            for (simdjson::dom::element item : in) {
                out.push_back(convert(item));
            }
            return out;
        }
        case simdjson::dom::element_type::OBJECT: {
            boost::json::object out;
            simdjson::dom::object in = element.get_object().value_unsafe();
            out.reserve(in.size());
            for (auto field : in) {
                // Duplicate keys: the last one wins, as in most JSON libraries.
                out[field.key] = convert(field.value);
            }
            return out;
        }
        case simdjson::dom::element_type::INT64:
            return element.get_int64().value_unsafe();
        case simdjson::dom::element_type::UINT64:
            return element.get_uint64().value_unsafe();
        case simdjson::dom::element_type::DOUBLE:
            return element.get_double().value_unsafe();
        case simdjson::dom::element_type::STRING:
            return boost::json::string(element.get_string().value_unsafe());
        case simdjson::dom::element_type::BOOL:
            return element.get_bool().value_unsafe();
        case simdjson::dom::element_type::NULL_VALUE:
            return nullptr;
    }
    return nullptr;
}

}  // namespace

boost::json::value parse_json(std::string_view text) {
    // One parser per thread: it keeps its buffers between documents, and a connection never
    // changes thread, so no locking.
    thread_local simdjson::dom::parser parser;
    simdjson::padded_string padded(text);  // simdjson reads up to SIMDJSON_PADDING past the end
    simdjson::dom::element root;
    auto error = parser.parse(padded).get(root);
    if (error) {
        throw JsonError(simdjson::error_message(error));
    }
    return convert(root);
}

}  // namespace flamecpp::detail
