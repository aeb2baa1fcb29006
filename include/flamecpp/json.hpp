#pragma once

/// @file
/// JSON responses with Boost.JSON: a handler may return a `boost::json::value` (or object,
/// array) directly, as in Flama.
///
/// @code
/// boost::json::value foo() { return {{"message", "foo"}}; }
/// @endcode

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <flamecpp/detail/doc.hpp>
#include <flamecpp/detail/handler.hpp>
#include <flamecpp/response.hpp>

namespace flamecpp::detail {

template <>
struct TypeDocOf<boost::json::value> {
    static constexpr TypeDoc value{.kind = TypeDoc::Kind::any};
};
template <>
struct TypeDocOf<boost::json::object> {
    static constexpr TypeDoc value{.kind = TypeDoc::Kind::object};
};
template <>
struct TypeDocOf<boost::json::array> {
    static constexpr TypeDoc value{.kind = TypeDoc::Kind::json_array};
};

template <>
struct ResponseConverter<boost::json::value> {
    static constexpr bool available = true;
    static constexpr TypeDocFn doc = &type_doc<boost::json::value>;
    static Response convert(const boost::json::value& v) { return Response::json(v); }
};
template <>
struct ResponseConverter<boost::json::object> {
    static constexpr bool available = true;
    static constexpr TypeDocFn doc = &type_doc<boost::json::object>;
    static Response convert(boost::json::object&& o) {
        return Response::json(boost::json::value(std::move(o)));
    }
};
template <>
struct ResponseConverter<boost::json::array> {
    static constexpr bool available = true;
    static constexpr TypeDocFn doc = &type_doc<boost::json::array>;
    static Response convert(boost::json::array&& a) {
        return Response::json(boost::json::value(std::move(a)));
    }
};

}  // namespace flamecpp::detail
