#pragma once

/// @file
/// Compile-time checks of handlers against a route template the compiler can see:
/// `app.route<"/users/{user_id:int}">(user)`. A Path parameter whose name is not in the
/// template, or whose type does not fit the parameter's convertor, does not compile.

#include <string_view>
#include <tuple>
#include <type_traits>

#include <flamecpp/detail/callable.hpp>
#include <flamecpp/detail/fixed_string.hpp>
#include <flamecpp/routing.hpp>

namespace flamecpp::detail {

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

inline constexpr int no_such_parameter = -1;
inline constexpr int unknown_convertor = -2;

/// The convertor of parameter `name` in `pattern`, or one of the two codes above.
constexpr int literal_convertor(std::string_view pattern, std::string_view name) {
    for (std::size_t open = 0; open < pattern.size(); ++open) {
        if (pattern[open] != '{')
            continue;
        std::size_t close = open + 1;
        while (close < pattern.size() && pattern[close] != '}') ++close;
        if (close == pattern.size())
            return no_such_parameter;
        std::size_t colon = open + 1;
        while (colon < close && pattern[colon] != ':') ++colon;
        if (literal_equal(pattern.substr(open + 1, colon - open - 1), name)) {
            if (colon == close)
                return static_cast<int>(Convertor::str);
            std::string_view conv = pattern.substr(colon + 1, close - colon - 1);
            if (literal_equal(conv, "int"))
                return static_cast<int>(Convertor::int_);
            if (literal_equal(conv, "float"))
                return static_cast<int>(Convertor::float_);
            if (literal_equal(conv, "uuid"))
                return static_cast<int>(Convertor::uuid);
            if (literal_equal(conv, "path"))
                return static_cast<int>(Convertor::path);
            if (literal_equal(conv, "str"))
                return static_cast<int>(Convertor::str);
            return unknown_convertor;
        }
        open = close;
    }
    return no_such_parameter;
}

template <class P>
struct PathParameter {
    static constexpr bool is_path = false;
};
template <FixedString N, class T>
struct PathParameter<Path<N, T>> {
    static constexpr bool is_path = true;
    static constexpr std::string_view name = N.view();
    using type = T;
};

template <class T>
constexpr bool fits_convertor(int convertor) {
    constexpr bool text = std::is_same_v<T, std::string> || std::is_same_v<T, std::string_view>;
    switch (static_cast<Convertor>(convertor)) {
        case Convertor::int_:
            return text || std::is_integral_v<T>;
        case Convertor::float_:
            return text || std::is_floating_point_v<T>;
        default:
            return text;
    }
}

template <FixedString Pattern, class P>
constexpr bool check_literal_parameter() {
    using Param = PathParameter<std::remove_cvref_t<P>>;
    if constexpr (Param::is_path) {
        constexpr int convertor = literal_convertor(Pattern.view(), Param::name);
        static_assert(convertor != no_such_parameter,
                      "flamecpp: a Path<\"name\"> parameter names no parameter of the route "
                      "template (see 'Pattern = ...' and 'P = ...' above).");
        static_assert(convertor != unknown_convertor,
                      "flamecpp: the route template gives a Path<\"name\"> parameter an unknown "
                      "convertor: write {name}, {name:str}, {name:int}, {name:float}, "
                      "{name:uuid} or {name:path} (see 'Pattern = ...' and 'P = ...' above).");
        if constexpr (convertor >= 0) {
            static_assert(fits_convertor<typename Param::type>(convertor),
                          "flamecpp: a Path<\"name\", T> parameter's type does not fit the "
                          "template's convertor: {x:int} takes integers, {x:float} floating-point "
                          "types, every convertor std::string and std::string_view (see "
                          "'Pattern = ...' and 'P = ...' above).");
        }
        return convertor >= 0;
    } else {
        return true;
    }
}

template <FixedString Pattern, class Tuple>
struct LiteralCheck;
template <FixedString Pattern, class... P>
struct LiteralCheck<Pattern, std::tuple<P...>> {
    static constexpr bool value = (check_literal_parameter<Pattern, P>() && ... && true);
};

template <FixedString Pattern, class F>
constexpr bool check_route_literal() {
    if constexpr (HasKnownSignature<F>) {
        return LiteralCheck<Pattern, typename CallableTraits<std::decay_t<F>>::args>::value;
    } else {
        return true;  // check_handler reports it
    }
}

template <FixedString Pattern, auto Member>
constexpr bool check_member_literal() {
    return LiteralCheck<Pattern, typename CallableTraits<decltype(Member)>::args>::value;
}

}  // namespace flamecpp::detail
