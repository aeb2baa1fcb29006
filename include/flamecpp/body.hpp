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
/// Fields: bool, integers, floating-point, std::string, nested described structs, described
/// enums (as their names), boost::json::value/object/array, std::vector<U>,
/// std::map<std::string, U> (an object), std::optional<U> and flamecpp::Nullable<U>. Every field
/// is required except std::optional ones (absent or null: empty). Missing is not null: an
/// absent required field is a 400 even if its type would take a null; `Nullable<U>` must be
/// given but may be null, `std::optional<Nullable<U>>` tells absent from null. Unknown fields
/// are ignored. FLAMECPP_RULES (<flamecpp/rules.hpp>) bounds fields; a value outside is a 400
/// naming the field. The same types make the OpenAPI schema (<flamecpp/openapi.hpp>).

#include <array>
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
#include <boost/describe/enum.hpp>   // BOOST_DESCRIBE_ENUM
#include <boost/describe/enum_from_string.hpp>
#include <boost/describe/enumerators.hpp>
#include <boost/describe/members.hpp>
#include <boost/json/value_from.hpp>
#include <boost/mp11/algorithm.hpp>

#include <flamecpp/detail/described.hpp>
#include <flamecpp/detail/doc.hpp>
#include <flamecpp/detail/inject.hpp>
#include <flamecpp/detail/injected.hpp>
#include <flamecpp/json.hpp>

namespace flamecpp {

/// The request body, parsed as JSON into `T` (a described struct, a JSON value, or any field
/// type listed in the description of <flamecpp/body.hpp>). The value is `*item` (also `item->`,
/// `item.value`).
template <class T>
struct Body : detail::Injected<T> {};

/// A value that is present but may be `null`: a field `Nullable<T>` must be given, as a T or
/// as null (empty). `std::optional<Nullable<T>>` tells the three apart, as a PATCH needs:
/// absent (no optional), null (an empty Nullable), a value.
///
/// @code
/// struct Patch { std::optional<flamecpp::Nullable<std::string>> due; };
/// // {} -> !due;  {"due": null} -> due && !*due;  {"due": "2027-01-01"} -> **due
/// @endcode
template <class T>
struct Nullable : std::optional<T> {
    using std::optional<T>::optional;
    using std::optional<T>::operator=;
};

/// Writes a Nullable as its value or null (Boost.JSON's value_from).
template <class T>
void tag_invoke(boost::json::value_from_tag, boost::json::value& out, const Nullable<T>& from) {
    if (from) {
        out = boost::json::value_from(*from);
    } else {
        out = nullptr;
    }
}

/// The answer the framework gives for a bad request (400, 404, 415, ...), as documented in the
/// OpenAPI schema: `{"detail": "..."}`. Handlers may return it too.
struct Error {
    /// What is wrong, for a person to read.
    std::string detail;
};
/// @cond INTERNAL
BOOST_DESCRIBE_STRUCT(Error, (), (detail))
/// @endcond

namespace detail {

/// Parses the request body as JSON (simdjson). Throws HTTPException: 415 for a Content-Type
/// that is not JSON, 400 for a body that is not one valid JSON document.
boost::json::value parse_json_body(const Request& request);

/// Throws HTTPException 400 "field 'path' <problem>" ("the body <problem>" at the root).
[[noreturn]] void throw_body_error(const std::string& path, std::string_view problem);

template <class T>
struct IsNullable : std::false_type {};
template <class T>
struct IsNullable<Nullable<T>> : std::true_type {};

template <class T>
struct IsJsonValue : std::bool_constant<std::same_as<T, boost::json::value> ||
                                        std::same_as<T, boost::json::object> ||
                                        std::same_as<T, boost::json::array>> {};

/// Whether T is one of the types a body or a JSON answer may hold (its shape; a described
/// struct's fields are checked by check_json_type).
template <class T>
constexpr bool json_shape_ok() {
    if constexpr (IsOptional<T>::value || IsNullable<T>::value || IsVector<T>::value) {
        return json_shape_ok<typename T::value_type>();
    } else if constexpr (StringMap<T>) {
        return json_shape_ok<typename T::mapped_type>();
    } else {
        return std::is_arithmetic_v<T> || std::same_as<T, std::string> || IsJsonValue<T>::value ||
               Described<T> || DescribedEnum<T>;
    }
}

/// The described struct inside T (through optionals, vectors and maps), or void.
template <class T>
struct InnerStruct {
    using type = void;
};
template <class T>
    requires(IsOptional<T>::value || IsNullable<T>::value || IsVector<T>::value)
struct InnerStruct<T> : InnerStruct<typename T::value_type> {};
template <StringMap T>
struct InnerStruct<T> : InnerStruct<typename T::mapped_type> {};
template <Described T>
struct InnerStruct<T> {
    using type = T;
};

template <class Field, int Depth>
constexpr bool check_json_field();

/// Whether rules declared for a field of type F can apply to it (through Nullable).
template <class F>
constexpr bool field_rules_fit(const Rules& rules) {
    if constexpr (IsNullable<F>::value) {
        return rules_fit<typename F::value_type>(rules);
    } else if constexpr (IsOptional<F>::value) {
        return field_rules_fit<typename F::value_type>(rules);
    } else {
        return rules_fit<F>(rules);
    }
}

template <class Field, Rules R>
constexpr bool check_field_rules_fit() {
    static_assert(field_rules_fit<Field>(R),
                  "flamecpp: FLAMECPP_RULES gives a field rules that do not fit its type (see "
                  "'Field = ...' above): .minimum/.maximum/.exclusive_* bound numbers, "
                  ".min_length/.max_length/.pattern strings, .min_items/.max_items a std::vector.");
    return field_rules_fit<Field>(R);
}

/// Checks T and the fields of described structs in it, `Depth` levels down (a struct may
/// hold itself through a vector or an optional): each unsupported type is one static_assert
/// naming it.
template <class T, int Depth = 4>
constexpr bool check_json_type() {
    if constexpr (!json_shape_ok<T>()) {
        return false;
    } else if constexpr (Depth == 0 || std::is_void_v<typename InnerStruct<T>::type>) {
        return true;
    } else {
        using S = typename InnerStruct<T>::type;
        bool ok = true;
        boost::mp11::mp_for_each<boost::describe::describe_members<S, boost::describe::mod_public>>(
            [&](auto member) {
                using Field = std::remove_cvref_t<decltype(std::declval<S&>().*member.pointer)>;
                ok = check_json_field<Field, Depth - 1>() && ok;
                constexpr std::size_t at = FieldRulesOf<S>::index(decltype(member)::name);
                if constexpr (at < FieldRulesOf<S>::value.size()) {
                    ok = check_field_rules_fit<Field, FieldRulesOf<S>::value[at].rules>() && ok;
                }
            });
        return ok;
    }
}

template <class Field, int Depth>
constexpr bool check_json_field() {
    static_assert(json_shape_ok<Field>(),
                  "flamecpp: a field of a described struct has a type that cannot be read or "
                  "written as JSON (see 'Field = ...' above). Fields may be bool, numbers, "
                  "std::string, described structs and enums (BOOST_DESCRIBE_STRUCT / "
                  "BOOST_DESCRIBE_ENUM), boost::json::value/object/array, and std::vector, "
                  "std::optional, flamecpp::Nullable or std::map<std::string, U> of those.");
    return json_shape_ok<Field>() && check_json_type<Field, Depth>();
}

/// Throws a 400 naming `path` when `value` breaks the FLAMECPP_RULES of its field.
template <class F>
void check_field_rules(const Rules* rules, const F& value, const std::string& path) {
    if (rules != nullptr) {
        if constexpr (IsNullable<F>::value) {
            if (value) {
                check_rules(*rules, *value, "field", path);
            }
        } else if constexpr (IsOptional<F>::value) {
            if (value) {
                check_field_rules(rules, *value, path);
            }
        } else {
            check_rules(*rules, value, "field", path);
        }
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
    } else if constexpr (DescribedEnum<T>) {
        if (v.is_string()) {
            T out{};
            if (boost::describe::enum_from_string(v.get_string().c_str(), out)) {
                return out;
            }
        }
        std::string names;
        boost::mp11::mp_for_each<boost::describe::describe_enumerators<T>>([&](auto e) {
            names += names.empty() ? "\"" : ", \"";
            names += e.name;
            names += '"';
        });
        throw_body_error(path, "must be one of " + names);
    } else if constexpr (IsNullable<T>::value) {
        if (v.is_null())
            return T{};
        return T(bind_json<typename T::value_type>(v, path));
    } else if constexpr (IsOptional<T>::value) {
        if (v.is_null()) {
            if constexpr (IsNullable<typename T::value_type>::value) {
                return T(typename T::value_type{});  // present and null
            } else {
                return std::nullopt;
            }
        }
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
    } else if constexpr (StringMap<T>) {
        if (!v.is_object())
            throw_body_error(path, "must be an object");
        T out;
        for (const auto& [key, item] : v.get_object()) {
            std::string item_path = path.empty() ? std::string(key) : path + "." + std::string(key);
            out.emplace(std::string(key), bind_json<typename T::mapped_type>(item, item_path));
        }
        return out;
    } else if constexpr (!Described<T>) {
        static_assert(Described<T>,
                      "flamecpp: a Body<T> type, or a field of it, cannot be read from JSON (see "
                      "'T = ...' above). Use bool, a number, std::string, a described struct or "
                      "enum, boost::json::value, object or array, or std::vector<U>, "
                      "std::optional<U>, flamecpp::Nullable<U> or std::map<std::string, U> of "
                      "those.");
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
                // Which rules apply is known at compile time: nothing is looked up per request.
                constexpr std::size_t at = FieldRulesOf<T>::index(decltype(member)::name);
                if constexpr (at < FieldRulesOf<T>::value.size()) {
                    check_field_rules(&FieldRulesOf<T>::value[at].rules, out.*member.pointer,
                                      field_path);
                }
            });
        return out;
    }
}

template <class T>
struct TypeDocOf<Nullable<T>> {
    static constexpr TypeDoc value{.kind = TypeDoc::Kind::optional, .item = &type_doc<T>};
};

template <class T>
struct Injector<Body<T>> : NoRequirements {
    static_assert(json_shape_ok<T>(),
                  "flamecpp: Body<T> takes bool, a number, std::string, boost::json::value, "
                  "object or array, a struct or enum described with BOOST_DESCRIBE_STRUCT / "
                  "BOOST_DESCRIBE_ENUM, or std::vector<U>, std::optional<U> or "
                  "std::map<std::string, U> of those (see 'T = ...' above). Describe a struct "
                  "with BOOST_DESCRIBE_STRUCT(T, (), (field, ...)).");
    static constexpr bool ok = json_shape_ok<T>() && check_json_type<T>();
    static constexpr bool available = true;
    static constexpr BodyDoc body_doc{.kind = BodyDoc::Kind::json, .type = &type_doc<T>};
    static Body<T> get(CallContext& ctx) {
        auto document = parse_json_body(ctx.request);
        if constexpr (std::same_as<T, boost::json::value>) {
            return Body<T>{std::move(document)};
        } else if constexpr (ok) {
            return Body<T>{bind_json<T>(document, std::string())};
        } else {
            return Body<T>{};  // the static_assert has said why
        }
    }
};

/// Writes a JSON-able value (checked: each unsupported field type is one error naming it).
template <class T>
boost::json::value to_json_value(const T& value) {
    if constexpr (json_shape_ok<T>() && check_json_type<T>()) {
        return boost::json::value_from(value);
    } else {
        static_assert(json_shape_ok<T>(),
                      "flamecpp: this type cannot be written as JSON (see 'T = ...' above): use "
                      "a described struct or enum, bool, a number, std::string, or "
                      "std::vector / std::optional / std::map<std::string, U> of those.");
        return {};
    }
}

/// A described struct (or a vector or map of JSON-able values) as Response::json's argument.
template <class T>
    requires(Described<T> || IsVector<T>::value || StringMap<T> || DescribedEnum<T>)
struct JsonValueOf<T> {
    static constexpr bool available = true;
    static boost::json::value from(const T& value) { return to_json_value(value); }
};

/// A described struct returned by a handler is a JSON response, documented with its schema.
template <Described T>
struct ResponseConverter<T> {
    static constexpr bool available = true;
    static constexpr TypeDocFn doc = &type_doc<T>;
    static Response convert(const T& value) { return Response::json(to_json_value(value)); }
};

/// So is a std::vector of JSON-able values (`std::vector<Todo>`: a JSON array).
template <class T>
    requires(json_shape_ok<T>())
struct ResponseConverter<std::vector<T>> {
    static constexpr bool available = true;
    static constexpr TypeDocFn doc = &type_doc<std::vector<T>>;
    static Response convert(const std::vector<T>& value) {
        return Response::json(to_json_value(value));
    }
};

}  // namespace detail
}  // namespace flamecpp
