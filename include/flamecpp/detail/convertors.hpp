#pragma once

/// @file
/// The path convertors in one table, like Starlette's CONVERTOR_TYPES. The router
/// (src/routing/router.cpp) and the compile-time checks of route literals (route_literal.hpp)
/// read every convertor's spelling and properties from `convertors`; adding a convertor is a
/// value of `Convertor` and a row here (and a `Matcher` if none fits).

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include <flamecpp/routing.hpp>

namespace flamecpp::detail {

/// How a convertor matches the decoded text of a segment, without a regex.
enum class Matcher : std::uint8_t {
    nonempty,  ///< any non-empty segment
    digits,    ///< [0-9]+
    decimal,   ///< [0-9]+ or [0-9]+.[0-9]+
    uuid,      ///< 8-4-4-4-12 hex digits, either case (RFC 9562 4)
    anything,  ///< any text, empty too: the rest of the path
};

/// The types T a `Path<Name, T>` parameter of a convertor may have. std::string and
/// std::string_view fit every convertor.
enum class PathValues : std::uint8_t {
    text,      ///< only those
    integers,  ///< and integral types
    floating,  ///< and floating-point types
};

struct ConvertorEntry {
    Convertor convertor;
    std::string_view name;  ///< as written after ':' in a route template
    Matcher matcher;
    bool spans_slashes;  ///< takes the rest of the path, so it must be the last segment
    PathValues values;
};

/// Every convertor, in the order of `Convertor`.
inline constexpr std::array<ConvertorEntry, 5> convertors{{
    {Convertor::str, "str", Matcher::nonempty, false, PathValues::text},
    {Convertor::int_, "int", Matcher::digits, false, PathValues::integers},
    {Convertor::float_, "float", Matcher::decimal, false, PathValues::floating},
    {Convertor::uuid, "uuid", Matcher::uuid, false, PathValues::text},
    {Convertor::path, "path", Matcher::anything, true, PathValues::text},
}};

/// The convertor of a parameter written without one: `{name}`.
inline constexpr Convertor default_convertor = Convertor::str;

constexpr bool convertors_follow_enum() {
    for (std::size_t i = 0; i < convertors.size(); ++i) {
        if (static_cast<std::size_t>(convertors[i].convertor) != i)
            return false;
    }
    return true;
}
static_assert(convertors_follow_enum(), "flamecpp: `convertors` must follow `Convertor`'s order");

constexpr const ConvertorEntry& convertor_entry(Convertor c) noexcept {
    return convertors[static_cast<std::size_t>(c)];
}

/// Character-by-character helpers: GCC 12 cannot constant-evaluate string_view::find on a
/// template parameter object (it goes through __builtin_memchr).
constexpr bool literal_equal(std::string_view a, std::string_view b) {
    if (a.size() != b.size())
        return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (a[i] != b[i])
            return false;
    }
    return true;
}

/// The convertor spelled `name`, if any. (A value, not a pointer into the table: GCC 12 with
/// -fsanitize=undefined cannot constant-evaluate a comparison of such a pointer with null.)
constexpr std::optional<Convertor> find_convertor(std::string_view name) {
    for (const ConvertorEntry& entry : convertors) {
        if (literal_equal(entry.name, name))
            return entry.convertor;
    }
    return std::nullopt;
}

/// True when a `Path<Name, T>` parameter fits a convertor of `values`.
template <class T>
constexpr bool path_value_fits(PathValues values) {
    constexpr bool text = std::is_same_v<T, std::string> || std::is_same_v<T, std::string_view>;
    switch (values) {
        case PathValues::integers:
            return text || std::is_integral_v<T>;
        case PathValues::floating:
            return text || std::is_floating_point_v<T>;
        case PathValues::text:
            break;
    }
    return text;
}

}  // namespace flamecpp::detail
