#pragma once

/// @file
/// What the parameter wrappers (Path, Query, Header, Body) share: the value, with
/// pointer-like access (`*id`, `q->size()`).

namespace flamecpp::detail {

template <class T>
struct Injected {
    using value_type = T;
    T value{};

    T& operator*() noexcept { return value; }
    const T& operator*() const noexcept { return value; }
    T* operator->() noexcept { return &value; }
    const T* operator->() const noexcept { return &value; }
};

}  // namespace flamecpp::detail
