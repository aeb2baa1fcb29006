#pragma once

/// @file
/// Class-based endpoints: one member function per HTTP verb, as in Starlette and Flama.

#include <flamecpp/request.hpp>

namespace flamecpp {

namespace detail {
template <class E>
class EndpointHandler;
}

/// Base of class-based HTTP endpoints. Derive, add members named `get`, `head`, `post`,
/// `put`, `patch`, `delete_` and `options` (each plain or returning `Task<...>`, one overload
/// each, parameters resolved by the injector), and register the class by type. An instance
/// is created per request; the methods it lacks answer 405 with an `Allow` header.
///
/// @code
/// struct Homepage : flamecpp::HTTPEndpoint {
///     flamecpp::Response get() { return flamecpp::Response::text("Hello, world!"); }
/// };
/// app.route<Homepage>("/");
/// @endcode
class HTTPEndpoint {
public:
    /// The request this instance serves.
    Request& request() const noexcept { return *request_; }

protected:
    HTTPEndpoint() = default;

private:
    template <class E>
    friend class detail::EndpointHandler;
    Request* request_ = nullptr;
};

}  // namespace flamecpp
