#pragma once

/// @file
/// Middleware that most services want, with Starlette's behaviour. Register them with
/// `app.middleware(...)`; docs/middleware.md lists them.
///
/// @code
/// app.middleware(flamecpp::RequestID{});
/// app.middleware(flamecpp::TrustedHost{{"example.com", "*.example.com"}});
/// @endcode

#include <string>
#include <string_view>
#include <vector>

#include <flamecpp/middleware.hpp>
#include <flamecpp/request.hpp>
#include <flamecpp/response.hpp>
#include <flamecpp/task.hpp>

namespace flamecpp {

/// Puts a request ID on every answer, the WebSocket handshake's included: the request's own
/// `X-Request-ID` when it is 1-64 characters of `[A-Za-z0-9._-]`, else a fresh random UUID
/// (version 4). Register it first to have it on the answers of every other middleware too.
class RequestID {
public:
    /// `header`: the field read and written (default `X-Request-ID`).
    explicit RequestID(std::string header = "X-Request-ID");
    Task<Response> operator()(Request& request, Next next) const;

    /// True for an ID taken as it is: 1-64 characters of `[A-Za-z0-9._-]`.
    static bool acceptable(std::string_view id) noexcept;

private:
    std::string header_;
};

/// Refuses requests whose `Host` is not one of `allowed_hosts` with 400 `Invalid host header`
/// (text/plain): a WebSocket upgrade is refused the same way. The port part of `Host` is
/// ignored and the comparison is case-insensitive. A pattern `*.example.com` allows every
/// subdomain of example.com (not example.com itself); `*` allows any host. A request without
/// `Host` (HTTP/1.0) is refused unless `*` is allowed.
class TrustedHost {
public:
    explicit TrustedHost(std::vector<std::string> allowed_hosts);
    Task<Response> operator()(Request& request, Next next) const;

    /// True when `host` (a Host header value, port included or not) is allowed.
    bool allows(std::string_view host) const noexcept;

private:
    std::vector<std::string> allowed_;
    bool any_ = false;
};

}  // namespace flamecpp
