#pragma once

/// @file
/// JSON request bodies bound to your types. Describe a struct with Boost.Describe and take
/// `Body<T>`: the body is parsed with simdjson and each field checked; a malformed document,
/// a missing field or a field of the wrong type answers 400 with `{"detail": ...}` naming the
/// field, and the handler never runs. Described structs can be returned as JSON too.
///
/// @code
/// struct Item { std::string name; double price; std::optional<std::string> note; };
/// BOOST_DESCRIBE_STRUCT(Item, (), (name, price, note))
///
/// flamecpp::Response create(flamecpp::Body<Item> item);
/// @endcode
///
/// Fields: bool, integers, floating-point, std::string, std::vector<U>, nested described
/// structs, boost::json::value/object/array, and std::optional<U>. Every field is required
/// except std::optional ones (absent or null: empty). Missing is not null: an absent required
/// field is a 400 even if its type would take a null. Unknown fields are ignored.

#include <concepts>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/describe/class.hpp>  // BOOST_DESCRIBE_STRUCT, which every body type needs
#include <boost/describe/members.hpp>
#include <boost/json/value_from.hpp>
#include <boost/mp11/algorithm.hpp>

#include <flamecpp/detail/inject.hpp>
#include <flamecpp/detail/injected.hpp>
#include <flamecpp/json.hpp>

namespace flamecpp {

/// The request body, parsed as JSON into `T` (a described struct, a JSON value, or any field
/// type listed in the description of <flamecpp/body.hpp>). The value is `*item` (also `item->`,
/// `item.value`).
template <class T>
struct Body : detail::Injected<T> {};

namespace detail {

/// Parses the request body as JSON (simdjson). Throws HTTPException: 415 for a Content-Type
/// that is not JSON, 400 for a body that is not one valid JSON document.
boost::json::value parse_json_body(const Request& request);

/// Throws HTTPException 400 "field 'path' <problem>" ("the body <problem>" at the root).
[[noreturn]] void throw_body_error(const std::string& path, std::string_view problem);

template <class T>
concept Described = boost::describe::has_describe_members<T>::value;

template <class T>
struct IsJsonValue : std::bool_constant<std::same_as<T, boost::json::value> ||
                                        std::same_as<T, boost::json::object> ||
                                        std::same_as<T, boost::json::array>> {};

/// True when bind_json<T> compiles. A described struct's own fields are checked one level
/// deep (not further: a struct may contain itself, through std::vector or std::optional).
template <class T, bool Fields = true>
constexpr bool bindable() {
    if constexpr (IsOptional<T>::value || IsVector<T>::value) {
        return bindable<typename T::value_type, Fields>();
    } else if constexpr (Fields && Described<T>) {
        bool ok = true;
        boost::mp11::mp_for_each<boost::describe::describe_members<T, boost::describe::mod_public>>(
            [&](auto member) {
                using Field = std::remove_cvref_t<decltype(std::declval<T&>().*member.pointer)>;
                ok = ok && bindable<Field, false>();
            });
        return ok;
    } else {
        return std::is_arithmetic_v<T> || std::same_as<T, std::string> || IsJsonValue<T>::value ||
               Described<T>;
    }
}

template <class T>
T bind_json(const boost::json::value& v, const std::string& path) {
    if constexpr (std::same_as<T, boost::json::value>) {
        return v;
    } else if constexpr (std::same_as<T, boost::json::object>) {
        if (!v.is_object())
            throw_body_error(path, "must be an object");
        return v.get_object();
    } else if constexpr (std::same_as<T, boost::json::array>) {
        if (!v.is_array())
            throw_body_error(path, "must be an array");
        return v.get_array();
    } else if constexpr (std::same_as<T, bool>) {
        if (!v.is_bool())
            throw_body_error(path, "must be true or false");
        return v.get_bool();
    } else if constexpr (std::integral<T>) {
        // JSON integers only; range-checked against T.
        if (v.is_int64()) {
            auto n = v.get_int64();
            if (std::in_range<T>(n))
                return static_cast<T>(n);
        } else if (v.is_uint64()) {
            auto n = v.get_uint64();
            if (std::in_range<T>(n))
                return static_cast<T>(n);
        } else {
            throw_body_error(path, "must be an integer");
        }
        throw_body_error(path, "is out of range");
    } else if constexpr (std::floating_point<T>) {
        if (!v.is_number())
            throw_body_error(path, "must be a number");
        return static_cast<T>(v.to_number<double>());
    } else if constexpr (std::same_as<T, std::string>) {
        if (!v.is_string())
            throw_body_error(path, "must be a string");
        return std::string(v.get_string());
    } else if constexpr (IsOptional<T>::value) {
        if (v.is_null())
            return std::nullopt;
        return bind_json<typename T::value_type>(v, path);
    } else if constexpr (IsVector<T>::value) {
        if (!v.is_array())
            throw_body_error(path, "must be an array");
        T out;
        out.reserve(v.get_array().size());
        std::size_t i = 0;
        for (const auto& item : v.get_array()) {
            out.push_back(
                bind_json<typename T::value_type>(item, path + "[" + std::to_string(i++) + "]"));
        }
        return out;
    } else if constexpr (!Described<T>) {
        static_assert(Described<T>,
                      "flamecpp: a Body<T> type, or a field of it, cannot be read from JSON (see "
                      "'T = ...' above). Use bool, a number, std::string, boost::json::value, "
                      "object or array (for a map: boost::json::object), a struct described with "
                      "BOOST_DESCRIBE_STRUCT, or std::vector<U> / std::optional<U> of those.");
        throw_body_error(path, "cannot be read");  // unreachable; no -Wreturn-type after the error
    } else {
        if (!v.is_object())
            throw_body_error(path, "must be an object");
        const auto& object = v.get_object();
        T out{};
        boost::mp11::mp_for_each<boost::describe::describe_members<T, boost::describe::mod_public>>(
            [&](auto member) {
                using Field = std::remove_cvref_t<decltype(out.*member.pointer)>;
                std::string field_path = path.empty() ? member.name : path + "." + member.name;
                const boost::json::value* field = object.if_contains(member.name);
                if (field == nullptr) {
                    if constexpr (!IsOptional<Field>::value) {
                        throw_body_error(field_path, "is required");
                    }
                    return;
                }
                out.*member.pointer = bind_json<Field>(*field, field_path);
            });
        return out;
    }
}

template <class T>
struct Injector<Body<T>> : NoRequirements {
    static_assert(
        bindable<T>(),
        "flamecpp: Body<T> takes bool, a number, std::string, boost::json::value, "
        "object or array, a struct described with BOOST_DESCRIBE_STRUCT whose fields are "
        "of these types, or std::vector<U> / std::optional<U> of those. Describe a struct "
        "with BOOST_DESCRIBE_STRUCT(T, (), (field, ...)); read a map as "
        "boost::json::object.");
    static constexpr bool available = true;
    static Body<T> get(CallContext& ctx) {
        auto document = parse_json_body(ctx.request);
        if constexpr (std::same_as<T, boost::json::value>) {
            return Body<T>{std::move(document)};
        } else {
            return Body<T>{bind_json<T>(document, std::string())};
        }
    }
};

/// A described struct returned by a handler is a JSON response.
template <Described T>
struct ResponseConverter<T> {
    static constexpr bool available = true;
    static Response convert(const T& value) {
        return Response::json(boost::json::value_from(value));
    }
};

}  // namespace detail
}  // namespace flamecpp
