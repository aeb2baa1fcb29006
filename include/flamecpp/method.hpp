#pragma once

/// @file
/// HTTP request methods and sets of them.

#include <array>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace flamecpp {

/// The request methods a route can serve. `other` stands for any method not named here.
enum class Method : std::uint8_t {
    get,      ///< GET
    head,     ///< HEAD
    post,     ///< POST
    put,      ///< PUT
    patch,    ///< PATCH
    delete_,  ///< DELETE (a trailing `_`: `delete` is a keyword)
    options,  ///< OPTIONS
    other     ///< any other method (see Request::method_name)
};

namespace detail {
/// The HTTP verbs a route or an endpoint class can serve, in the order of `MethodSet`.
inline constexpr std::array<Method, 7> http_verbs{Method::get,    Method::head,  Method::post,
                                                  Method::put,    Method::patch, Method::delete_,
                                                  Method::options};
}  // namespace detail

/// The method's token as sent on the wire ("DELETE"); "OTHER" for `Method::other`.
std::string_view to_string(Method m) noexcept;

/// A small set of methods, a value type. `allow_header()` lists them in one fixed order:
/// GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS.
class MethodSet {
public:
    /// The empty set.
    constexpr MethodSet() = default;
    /// The set of `methods`: `{Method::get, Method::post}`, as route() takes it.
    constexpr MethodSet(std::initializer_list<Method> methods) {
        for (Method m : methods) {
            insert(m);
        }
    }

    /// Adds `m` (nothing when it is there already).
    constexpr void insert(Method m) { bits_ |= bit(m); }
    /// True when `m` is in the set.
    constexpr bool contains(Method m) const { return (bits_ & bit(m)) != 0; }
    /// True when the set has no method.
    constexpr bool empty() const { return bits_ == 0; }
    /// True when every method of `other` is in this set.
    constexpr bool includes(MethodSet other) const { return (bits_ & other.bits_) == other.bits_; }
    /// The union of the two sets.
    constexpr MethodSet operator|(MethodSet other) const { return MethodSet(bits_ | other.bits_); }
    /// True when both sets hold the same methods.
    constexpr bool operator==(const MethodSet&) const = default;

    /// The value of an `Allow` header for this set: "GET, HEAD, POST" (`Method::other` is
    /// left out).
    std::string allow_header() const;

private:
    constexpr explicit MethodSet(std::uint16_t bits) : bits_(bits) {}
    static constexpr std::uint16_t bit(Method m) {
        return static_cast<std::uint16_t>(1u << static_cast<unsigned>(m));
    }
    std::uint16_t bits_ = 0;
};

}  // namespace flamecpp
