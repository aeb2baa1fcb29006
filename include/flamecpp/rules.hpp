#pragma once

/// @file
/// Constraints on parameters and body fields, declared once where the value is declared:
/// the injector checks them (400 naming the parameter or field) and the OpenAPI schema
/// (<flamecpp/openapi.hpp>) writes them down.
///
/// @code
/// // A parameter: the 4th template argument of Query, Header and Cookie, the 3rd of Path.
/// flamecpp::Query<"limit", int, 50, flamecpp::Rules{.minimum = 1, .maximum = 100}> limit;
///
/// // Fields of a body struct, beside BOOST_DESCRIBE_STRUCT (same namespace):
/// struct NewTodo { std::string title; std::optional<bool> completed; };
/// BOOST_DESCRIBE_STRUCT(NewTodo, (), (title, completed))
/// FLAMECPP_RULES(NewTodo, (title, .min_length = 1, .max_length = 200))
/// @endcode

#include <array>
#include <cstddef>
#include <limits>
#include <string_view>

namespace flamecpp {

/// A regular expression as a template argument: ECMAScript syntax, as JSON Schema's
/// `pattern`, matched anywhere in the value (anchor it with `^...$` to match the whole).
struct Pattern {
    /// The expression's characters (a structural type cannot hold a std::string).
    char text[128] = {};
    /// How many characters of `text` are used.
    std::size_t size = 0;

    /// No pattern: nothing is checked.
    constexpr Pattern() = default;
    /// The pattern written as a string literal: `.pattern = "^[a-z]+$"`.
    template <std::size_t N>
    constexpr Pattern(const char (&s)[N]) : size(N - 1) {  // NOLINT(google-explicit-constructor)
        static_assert(N <= 128, "flamecpp: a Pattern is at most 127 characters.");
        for (std::size_t i = 0; i < N && i < 128; ++i) {
            text[i] = s[i];
        }
    }
    /// The expression as text.
    constexpr std::string_view view() const noexcept { return {text, size}; }
    /// Whether no pattern is set.
    constexpr bool empty() const noexcept { return size == 0; }
};

/// What a value must satisfy, in JSON Schema's terms. Every member left at its default
/// checks nothing. Numbers: `minimum`/`maximum` (inclusive), `exclusive_minimum`/
/// `exclusive_maximum`. Strings: `min_length`/`max_length` in characters (Unicode code points,
/// as JSON Schema counts) and `pattern`. Arrays (std::vector): `min_items`/`max_items`.
/// Designated initializers follow the order of the members below (C++20 asks for it):
/// `Rules{.maximum = 10, .exclusive_minimum = 0}`. Bounds are doubles: exact for integers up
/// to 2^53.
struct Rules {
    /// No bound on a number.
    static constexpr double unbounded = std::numeric_limits<double>::infinity();
    /// No limit on a length or a count.
    static constexpr std::size_t no_limit = std::numeric_limits<std::size_t>::max();

    /// The smallest number allowed (JSON Schema `minimum`).
    double minimum = -unbounded;
    /// The largest number allowed (`maximum`).
    double maximum = unbounded;
    /// Numbers must be greater than this (`exclusiveMinimum`).
    double exclusive_minimum = -unbounded;
    /// Numbers must be less than this (`exclusiveMaximum`).
    double exclusive_maximum = unbounded;
    /// The fewest characters a string may have (`minLength`); 1: not empty.
    std::size_t min_length = 0;
    /// The most characters a string may have (`maxLength`).
    std::size_t max_length = no_limit;
    /// A regular expression strings must match (`pattern`).
    Pattern pattern{};
    /// The fewest items a std::vector may have (`minItems`).
    std::size_t min_items = 0;
    /// The most items a std::vector may have (`maxItems`).
    std::size_t max_items = no_limit;

    /// Whether a bound on numbers is set.
    constexpr bool numeric() const noexcept {
        return minimum != -unbounded || maximum != unbounded || exclusive_minimum != -unbounded ||
               exclusive_maximum != unbounded;
    }
    /// Whether a length or a pattern is set.
    constexpr bool textual() const noexcept {
        return min_length != 0 || max_length != no_limit || !pattern.empty();
    }
    /// Whether a count of items is set.
    constexpr bool counted() const noexcept { return min_items != 0 || max_items != no_limit; }
    /// Whether nothing is checked.
    constexpr bool empty() const noexcept { return !numeric() && !textual() && !counted(); }
};

namespace detail {

/// One entry of FLAMECPP_RULES: a field's name and its rules.
struct FieldRule {
    std::string_view field;
    Rules rules;
};

/// The rules FLAMECPP_RULES declared for T's fields (found by argument-dependent lookup); an
/// empty array for a type without any.
template <class T>
constexpr auto field_rules_of() {
    if constexpr (requires { flamecpp_field_rules(static_cast<const T*>(nullptr)); }) {
        return flamecpp_field_rules(static_cast<const T*>(nullptr));
    } else {
        return std::array<FieldRule, 0>{};
    }
}

/// T's rules as static data, so that a field's rules have an address for the schema.
template <class T>
struct FieldRulesOf {
    static constexpr auto value = field_rules_of<T>();

    /// The index in `value` of the field `name`'s rules; `value.size()` when it has none.
    static constexpr std::size_t index(std::string_view name) noexcept {
        std::size_t i = 0;
        while (i < value.size() && value[i].field != name) {
            ++i;
        }
        return i;
    }
    /// The rules of the field `name`; nullptr when it has none.
    static constexpr const Rules* find(std::string_view name) noexcept {
        const std::size_t i = index(name);
        return i < value.size() ? &value[i].rules : nullptr;
    }
};

}  // namespace detail
}  // namespace flamecpp

/// Declares rules for fields of the described struct `T`, in T's namespace, after
/// BOOST_DESCRIBE_STRUCT: one parenthesized group per field, the field's name and then the
/// members of flamecpp::Rules to set. At most 32 fields.
///
/// @code
/// FLAMECPP_RULES(NewTodo, (title, .min_length = 1, .max_length = 200),
///                         (priority, .minimum = 0, .maximum = 5))
/// @endcode
#define FLAMECPP_RULES(T, ...)                                                                  \
    [[maybe_unused]] constexpr auto flamecpp_field_rules(const T*) noexcept {                   \
        return ::std::array{FLAMECPP_PP_CAT(FLAMECPP_PP_EACH_, FLAMECPP_PP_COUNT(__VA_ARGS__))( \
            FLAMECPP_RULE_ENTRY_, T, __VA_ARGS__)};                                             \
    }

/// @cond INTERNAL
#define FLAMECPP_RULE_ENTRY_(T, group) FLAMECPP_RULE_ENTRY_I_(T, FLAMECPP_PP_UNPAREN group)
#define FLAMECPP_RULE_ENTRY_I_(...) FLAMECPP_RULE_ENTRY_II_(__VA_ARGS__)
#define FLAMECPP_RULE_ENTRY_II_(T, field, ...)                                          \
    ::flamecpp::detail::FieldRule {                                                     \
        (static_cast<void>(&T::field), ::std::string_view(#field)), ::flamecpp::Rules { \
            __VA_ARGS__                                                                 \
        }                                                                               \
    }

#define FLAMECPP_PP_UNPAREN(...) __VA_ARGS__
#define FLAMECPP_PP_CAT(a, b) FLAMECPP_PP_CAT_I(a, b)
#define FLAMECPP_PP_CAT_I(a, b) a##b
#define FLAMECPP_PP_COUNT(...)                                                                   \
    FLAMECPP_PP_COUNT_I(__VA_ARGS__, 32, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, \
                        17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0)
#define FLAMECPP_PP_COUNT_I(_1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12, _13, _14, _15, _16, \
                            _17, _18, _19, _20, _21, _22, _23, _24, _25, _26, _27, _28, _29, _30,  \
                            _31, _32, n, ...)                                                      \
    n
#define FLAMECPP_PP_EACH_1(m, d, x) m(d, x)
#define FLAMECPP_PP_EACH_2(m, d, x, ...) m(d, x), FLAMECPP_PP_EACH_1(m, d, __VA_ARGS__)
#define FLAMECPP_PP_EACH_3(m, d, x, ...) m(d, x), FLAMECPP_PP_EACH_2(m, d, __VA_ARGS__)
#define FLAMECPP_PP_EACH_4(m, d, x, ...) m(d, x), FLAMECPP_PP_EACH_3(m, d, __VA_ARGS__)
#define FLAMECPP_PP_EACH_5(m, d, x, ...) m(d, x), FLAMECPP_PP_EACH_4(m, d, __VA_ARGS__)
#define FLAMECPP_PP_EACH_6(m, d, x, ...) m(d, x), FLAMECPP_PP_EACH_5(m, d, __VA_ARGS__)
#define FLAMECPP_PP_EACH_7(m, d, x, ...) m(d, x), FLAMECPP_PP_EACH_6(m, d, __VA_ARGS__)
#define FLAMECPP_PP_EACH_8(m, d, x, ...) m(d, x), FLAMECPP_PP_EACH_7(m, d, __VA_ARGS__)
#define FLAMECPP_PP_EACH_9(m, d, x, ...) m(d, x), FLAMECPP_PP_EACH_8(m, d, __VA_ARGS__)
#define FLAMECPP_PP_EACH_10(m, d, x, ...) m(d, x), FLAMECPP_PP_EACH_9(m, d, __VA_ARGS__)
#define FLAMECPP_PP_EACH_11(m, d, x, ...) m(d, x), FLAMECPP_PP_EACH_10(m, d, __VA_ARGS__)
#define FLAMECPP_PP_EACH_12(m, d, x, ...) m(d, x), FLAMECPP_PP_EACH_11(m, d, __VA_ARGS__)
#define FLAMECPP_PP_EACH_13(m, d, x, ...) m(d, x), FLAMECPP_PP_EACH_12(m, d, __VA_ARGS__)
#define FLAMECPP_PP_EACH_14(m, d, x, ...) m(d, x), FLAMECPP_PP_EACH_13(m, d, __VA_ARGS__)
#define FLAMECPP_PP_EACH_15(m, d, x, ...) m(d, x), FLAMECPP_PP_EACH_14(m, d, __VA_ARGS__)
#define FLAMECPP_PP_EACH_16(m, d, x, ...) m(d, x), FLAMECPP_PP_EACH_15(m, d, __VA_ARGS__)
#define FLAMECPP_PP_EACH_17(m, d, x, ...) m(d, x), FLAMECPP_PP_EACH_16(m, d, __VA_ARGS__)
#define FLAMECPP_PP_EACH_18(m, d, x, ...) m(d, x), FLAMECPP_PP_EACH_17(m, d, __VA_ARGS__)
#define FLAMECPP_PP_EACH_19(m, d, x, ...) m(d, x), FLAMECPP_PP_EACH_18(m, d, __VA_ARGS__)
#define FLAMECPP_PP_EACH_20(m, d, x, ...) m(d, x), FLAMECPP_PP_EACH_19(m, d, __VA_ARGS__)
#define FLAMECPP_PP_EACH_21(m, d, x, ...) m(d, x), FLAMECPP_PP_EACH_20(m, d, __VA_ARGS__)
#define FLAMECPP_PP_EACH_22(m, d, x, ...) m(d, x), FLAMECPP_PP_EACH_21(m, d, __VA_ARGS__)
#define FLAMECPP_PP_EACH_23(m, d, x, ...) m(d, x), FLAMECPP_PP_EACH_22(m, d, __VA_ARGS__)
#define FLAMECPP_PP_EACH_24(m, d, x, ...) m(d, x), FLAMECPP_PP_EACH_23(m, d, __VA_ARGS__)
#define FLAMECPP_PP_EACH_25(m, d, x, ...) m(d, x), FLAMECPP_PP_EACH_24(m, d, __VA_ARGS__)
#define FLAMECPP_PP_EACH_26(m, d, x, ...) m(d, x), FLAMECPP_PP_EACH_25(m, d, __VA_ARGS__)
#define FLAMECPP_PP_EACH_27(m, d, x, ...) m(d, x), FLAMECPP_PP_EACH_26(m, d, __VA_ARGS__)
#define FLAMECPP_PP_EACH_28(m, d, x, ...) m(d, x), FLAMECPP_PP_EACH_27(m, d, __VA_ARGS__)
#define FLAMECPP_PP_EACH_29(m, d, x, ...) m(d, x), FLAMECPP_PP_EACH_28(m, d, __VA_ARGS__)
#define FLAMECPP_PP_EACH_30(m, d, x, ...) m(d, x), FLAMECPP_PP_EACH_29(m, d, __VA_ARGS__)
#define FLAMECPP_PP_EACH_31(m, d, x, ...) m(d, x), FLAMECPP_PP_EACH_30(m, d, __VA_ARGS__)
#define FLAMECPP_PP_EACH_32(m, d, x, ...) m(d, x), FLAMECPP_PP_EACH_31(m, d, __VA_ARGS__)
/// @endcond
