#pragma once

/// @file
/// What the OpenAPI schema is made from, recorded at compile time: the JSON shape of each
/// type (TypeDoc), each documented parameter (ParamDoc), a handler's body and result
/// (OperationDoc). All of it is constant data the library reads once, when a schema is built;
/// nothing here runs per request. Described structs and enums get theirs from
/// <flamecpp/body.hpp>.

#include <concepts>
#include <cstddef>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <flamecpp/detail/default_arg.hpp>
#include <flamecpp/detail/fixed_string.hpp>
#include <flamecpp/method.hpp>
#include <flamecpp/rules.hpp>

namespace flamecpp {
struct Operation;
}  // namespace flamecpp

namespace flamecpp::detail {

struct TypeDoc;
/// A type's TypeDoc, as a function so that types may refer to themselves (`Node` holding
/// `std::vector<Node>`).
using TypeDocFn = const TypeDoc& (*)() noexcept;

/// One field of a described struct.
struct FieldDoc {
    std::string_view name{};
    TypeDocFn type = nullptr;
    bool required = true;          ///< false for std::optional
    const Rules* rules = nullptr;  ///< FLAMECPP_RULES for the field, if any
};

/// The JSON shape of a C++ type.
struct TypeDoc {
    enum class Kind : unsigned char {
        any,  ///< boost::json::value: any JSON
        boolean,
        integer,
        number,
        string,
        binary,       ///< an uploaded file (forms)
        array,        ///< std::vector<item>
        map,          ///< string keys, `item` values
        object,       ///< boost::json::object: any object
        json_array,   ///< boost::json::array: any array
        structure,    ///< a described struct: `fields`
        enumeration,  ///< a described enum: `enumerators`, as strings
        optional,     ///< `item` or null (std::optional, flamecpp::Nullable)
    };
    Kind kind = Kind::any;
    std::string_view format{};  ///< int32, int64, double, float, ...
    TypeDocFn item = nullptr;   ///< array, map, optional
    std::string_view name{};    ///< structure, enumeration: the C++ type's name, qualified
    std::span<const FieldDoc> fields{};
    std::span<const std::string_view> enumerators{};
    double minimum = -Rules::unbounded;  ///< integers narrower than 64 bits: the type's range
    double maximum = Rules::unbounded;
};

/// TypeDoc of T (`value`); specialized below for scalars and containers, and in
/// <flamecpp/detail/described.hpp> for described structs and enums. Unknown types have none.
template <class T, class = void>
struct TypeDocOf {};

template <class T>
concept HasTypeDoc = requires {
    TypeDocOf<T>::value;
};

/// Any JSON: the schema of a type nothing is known about (whose use another check refuses).
inline const TypeDoc& any_type_doc() noexcept {
    static constexpr TypeDoc doc{.kind = TypeDoc::Kind::any};
    return doc;
}

/// T's TypeDoc. Its body is instantiated late (at the end of the translation unit), so types
/// may refer to themselves through it.
template <class T>
const TypeDoc& type_doc() noexcept {
    if constexpr (HasTypeDoc<T>) {
        static constexpr TypeDoc doc = TypeDocOf<T>::value;
        return doc;
    } else {
        return any_type_doc();
    }
}

/// `type_doc<T>`, for a type that must have a schema: one the user names for one.
template <class T>
constexpr TypeDocFn known_type_doc() noexcept {
    static_assert(HasTypeDoc<T>,
                  "flamecpp: no JSON schema is known for this type (see 'T = ...' above). "
                  "Describe structs and enums with BOOST_DESCRIBE_STRUCT / BOOST_DESCRIBE_ENUM "
                  "and include <flamecpp/body.hpp>.");
    return &type_doc<T>;
}

/// The qualified name of T, from the compiler (`app::Todo`); a view of static storage.
template <class T>
constexpr std::string_view type_name() noexcept {
    std::string_view text = __PRETTY_FUNCTION__;
    // GCC: "... [with T = app::Todo; std::string_view = ...]"; Clang: "... [T = app::Todo]".
    auto start = text.find("T = ");
    if (start == std::string_view::npos) {
        return "Object";
    }
    start += 4;
    auto end = text.find_first_of(";]", start);
    return text.substr(start, end - start);
}

template <class T>
struct IsStdVector : std::false_type {};
template <class T, class A>
struct IsStdVector<std::vector<T, A>> : std::true_type {};

template <class T>
concept StringMap = requires {
    typename T::key_type;
    typename T::mapped_type;
}
&&std::same_as<typename T::key_type, std::string>;

template <class T>
struct TypeDocOf<T, std::enable_if_t<std::is_same_v<T, bool>>> {
    static constexpr TypeDoc value{.kind = TypeDoc::Kind::boolean};
};

template <class T>
struct TypeDocOf<T, std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>>> {
    static constexpr TypeDoc value = [] {
        TypeDoc doc{.kind = TypeDoc::Kind::integer, .format = sizeof(T) <= 4 ? "int32" : "int64"};
        if constexpr (sizeof(T) < 8 && !(sizeof(T) == 4 && std::is_signed_v<T>)) {
            doc.minimum = static_cast<double>(std::numeric_limits<T>::min());
            doc.maximum = static_cast<double>(std::numeric_limits<T>::max());
        } else if constexpr (std::is_unsigned_v<T>) {
            doc.minimum = 0;
        }
        if constexpr (sizeof(T) == 4 && std::is_unsigned_v<T>) {
            doc.format = "int64";  // past int32's range
        }
        return doc;
    }();
};

template <class T>
struct TypeDocOf<T, std::enable_if_t<std::is_floating_point_v<T>>> {
    static constexpr TypeDoc value{.kind = TypeDoc::Kind::number,
                                   .format = sizeof(T) <= 4 ? "float" : "double"};
};

template <class T>
struct TypeDocOf<
    T,
    std::enable_if_t<std::is_same_v<T, std::string> || std::is_same_v<T, std::string_view>>> {
    static constexpr TypeDoc value{.kind = TypeDoc::Kind::string};
};

template <class T>
struct TypeDocOf<std::optional<T>> {
    static constexpr TypeDoc value{.kind = TypeDoc::Kind::optional, .item = &type_doc<T>};
};

template <class T>
struct TypeDocOf<T, std::enable_if_t<IsStdVector<T>::value>> {
    static constexpr TypeDoc value{.kind = TypeDoc::Kind::array,
                                   .item = &type_doc<typename T::value_type>};
};

template <class T>
struct TypeDocOf<T, std::enable_if_t<StringMap<T>>> {
    static constexpr TypeDoc value{.kind = TypeDoc::Kind::map,
                                   .item = &type_doc<typename T::mapped_type>};
};

/// A documented parameter of a handler (path, query, header, cookie).
struct ParamDoc {
    enum class In : unsigned char { path, query, header, cookie };
    In in = In::query;
    std::string_view name{};
    TypeDocFn type = nullptr;
    bool required = true;
    const DefaultArg* default_value = nullptr;
    const Rules* rules = nullptr;
};

/// What a handler does with the request body, for the schema.
struct BodyDoc {
    enum class Kind : unsigned char { none, json, form, stream };
    Kind kind = Kind::none;
    TypeDocFn type = nullptr;  ///< json: the body's type; form: the struct of Form<T>
};

/// What a handler's return value becomes, for the schema.
struct ResultDoc {
    enum class Kind : unsigned char { response, text, json };
    Kind kind = Kind::response;  ///< response: a Response, whose shape the route declares
    TypeDocFn type = nullptr;    ///< json: the value's type
};

/// Everything the types of one handler say about its operation. `method` is Method::other
/// for a function view (it serves every method of its route).
struct OperationDoc {
    Method method = Method::other;
    std::span<const ParamDoc> params{};
    BodyDoc body{};
    ResultDoc result{};
    const Operation* info = nullptr;  ///< an endpoint class's `get_doc`, `post_doc`, ...
};

/// The operations of one route: one for a function view, one per verb for an endpoint class.
using OperationDocs = std::span<const OperationDoc>;

}  // namespace flamecpp::detail
