#pragma once

/// @file
/// A string literal usable as a template argument: `Path<"id", int>`.

#include <algorithm>
#include <cstddef>
#include <string_view>

namespace flamecpp::detail {

template <std::size_t N>
struct FixedString {
    char data[N]{};

    constexpr FixedString(const char (&text)[N]) { std::copy_n(text, N, data); }
    constexpr std::string_view view() const { return {data, N - 1}; }
};

template <class... T>
inline constexpr bool dependent_false = false;

}  // namespace flamecpp::detail
