#pragma once

/// @file
/// Compile-time checks of handlers against a route template the compiler can see:
/// `app.route<"/users/{user_id:int}">(user)`. A Path parameter whose name is not in the
/// template, or whose type does not fit the parameter's convertor, does not compile.

#include <string_view>
#include <tuple>
#include <type_traits>

#include <flamecpp/detail/callable.hpp>
#include <flamecpp/detail/convertors.hpp>
#include <flamecpp/detail/fixed_string.hpp>
#include <flamecpp/routing.hpp>

namespace flamecpp::detail {

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
                return static_cast<int>(default_convertor);
            const std::optional<Convertor> found =
                find_convertor(pattern.substr(colon + 1, close - colon - 1));
            return found ? static_cast<int>(*found) : unknown_convertor;
        }
        open = close;
    }
    return no_such_parameter;
}

template <class P>
struct PathParameter {
    static constexpr bool is_path = false;
};
template <FixedString N, class T, Rules R>
struct PathParameter<Path<N, T, R>> {
    static constexpr bool is_path = true;
    static constexpr std::string_view name = N.view();
    using type = T;
};

template <class T>
constexpr bool fits_convertor(int convertor) {
    return path_value_fits<T>(convertor_entry(static_cast<Convertor>(convertor)).values);
}

// The unknown-convertor message below spells out the names in `convertors`: a static_assert
// message must be a literal.
static_assert(convertors.size() == 5, "update the unknown-convertor message with `convertors`");

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
