#pragma once

/// @file
/// A default value usable as a template argument: `Query<"limit", int, 10>`,
/// `Query<"sort", std::string, "asc">`.

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

namespace flamecpp::detail {

/// A structural literal: an integer, a floating-point number, a bool or a short string.
struct DefaultArg {
    enum class Kind : unsigned char { none, integer, floating, boolean, text };

    Kind kind = Kind::none;
    long long integer = 0;
    double floating = 0;
    bool boolean = false;
    char text[64] = {};
    std::size_t size = 0;

    constexpr DefaultArg() = default;
    constexpr DefaultArg(int v) : kind(Kind::integer), integer(v) {}
    constexpr DefaultArg(long v) : kind(Kind::integer), integer(v) {}
    constexpr DefaultArg(long long v) : kind(Kind::integer), integer(v) {}
    constexpr DefaultArg(unsigned v) : kind(Kind::integer), integer(v) {}
    constexpr DefaultArg(double v) : kind(Kind::floating), floating(v) {}
    constexpr DefaultArg(bool v) : kind(Kind::boolean), boolean(v) {}
    template <std::size_t N>
    constexpr DefaultArg(const char (&s)[N]) : kind(Kind::text), size(N - 1) {
        static_assert(N <= 64,
                      "flamecpp: a string default is at most 63 characters. For a longer one, "
                      "take std::optional<std::string> with no default and use "
                      "value_or(\"...\") in the handler.");
        std::copy_n(s, N <= 64 ? N : 64, text);  // past 64 the assert has failed: one error
    }
};

template <class T>
struct IsOptional : std::false_type {};
template <class T>
struct IsOptional<std::optional<T>> : std::true_type {};

/// True when the default `d` can initialize a T.
template <class T>
constexpr bool default_fits(const DefaultArg& d) {
    using K = DefaultArg::Kind;
    if (d.kind == K::none) {
        return true;
    }
    if constexpr (IsOptional<T>::value) {
        return default_fits<typename T::value_type>(d);
    } else if constexpr (std::same_as<T, bool>) {
        return d.kind == K::boolean;
    } else if constexpr (std::integral<T>) {
        return d.kind == K::integer;
    } else if constexpr (std::floating_point<T>) {
        return d.kind == K::integer || d.kind == K::floating;
    } else if constexpr (std::same_as<T, std::string> || std::same_as<T, std::string_view>) {
        return d.kind == K::text;
    } else {
        return false;
    }
}

template <class T>
T make_default(const DefaultArg& d) {
    using K = DefaultArg::Kind;
    if constexpr (IsOptional<T>::value) {
        return T(make_default<typename T::value_type>(d));
    } else if constexpr (std::same_as<T, bool>) {
        return d.boolean;
    } else if constexpr (std::integral<T>) {
        return static_cast<T>(d.integer);
    } else if constexpr (std::floating_point<T>) {
        return d.kind == K::integer ? static_cast<T>(d.integer) : static_cast<T>(d.floating);
    } else {
        return T(d.text, d.size);
    }
}

}  // namespace flamecpp::detail
