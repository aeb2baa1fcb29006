// Boost.JSON serializes every double in scientific notation in 1.81 ("1.5E0"; boostorg/json
// issue 837 has no option for it). Valid JSON, but not what clients and the samples' contract
// expect, so a document holding a double goes once more through simdjson's minifier, which
// writes the shortest decimal form ("1.5"). Documents without doubles skip that step.
#include "json/writer.hpp"

#include <boost/json/serialize.hpp>
#include <simdjson.h>

namespace flamecpp::detail {
namespace {

bool contains_double(const boost::json::value& value) {
    switch (value.kind()) {
        case boost::json::kind::double_:
            return true;
        case boost::json::kind::array:
            for (const auto& item : value.get_array()) {
                if (contains_double(item))
                    return true;
            }
            return false;
        case boost::json::kind::object:
            for (const auto& field : value.get_object()) {
                if (contains_double(field.value()))
                    return true;
            }
            return false;
        default:
            return false;
    }
}

}  // namespace

std::string serialize_json(const boost::json::value& value) {
    std::string text = boost::json::serialize(value);
    if (!contains_double(value)) {
        return text;
    }
    thread_local simdjson::dom::parser parser;
    simdjson::padded_string padded(text);
    simdjson::dom::element root;
    if (parser.parse(padded).get(root)) {
        return text;  // cannot happen for Boost.JSON's own output; keep it valid regardless
    }
    return simdjson::minify(root);
}

}  // namespace flamecpp::detail
