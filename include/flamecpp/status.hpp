#pragma once

/// @file
/// HTTP status codes and their reason phrases.

#include <cstdint>
#include <string_view>

namespace flamecpp {

/// An HTTP status code. Any value 100-999 is allowed (`static_cast<Status>(451)`); the names
/// cover the common ones of RFC 9110 and RFC 6585. Where the framework answers with one
/// itself, its description says when.
enum class Status : std::uint16_t {
    continue_ = 100,            ///< Continue (a trailing `_`: `continue` is a keyword)
    switching_protocols = 101,  ///< Switching Protocols: a WebSocket handshake's answer
    ok = 200,                   ///< OK
    created = 201,              ///< Created
    accepted = 202,             ///< Accepted
    no_content = 204,           ///< No Content: Response::empty, and the automatic OPTIONS answer
    partial_content = 206,      ///< Partial Content: one `Range` of a file answer
    moved_permanently = 301,    ///< Moved Permanently
    found = 302,                ///< Found
    see_other = 303,            ///< See Other
    not_modified = 304,         ///< Not Modified: the client's copy of a file answer is current
    temporary_redirect = 307,   ///< Temporary Redirect: Response::redirect, redirect_slashes
    permanent_redirect = 308,   ///< Permanent Redirect
    bad_request = 400,          ///< Bad Request: a malformed request, parameter, body or form
    unauthorized = 401,         ///< Unauthorized (send `WWW-Authenticate` with it)
    forbidden = 403,            ///< Forbidden: also a WebSocket closed before accept()
    not_found = 404,            ///< Not Found: no route has the path, no file has the name
    method_not_allowed = 405,   ///< Method Not Allowed: a route has the path, not the method
    not_acceptable = 406,       ///< Not Acceptable
    request_timeout = 408,      ///< Request Timeout: a header or body that came too slowly
    conflict = 409,             ///< Conflict
    gone = 410,                 ///< Gone
    length_required = 411,      ///< Length Required
    precondition_failed = 412,  ///< Precondition Failed: a file answer's `If-Match` (...) failed
    payload_too_large = 413,    ///< Content Too Large: a body over its limit
    uri_too_long = 414,         ///< URI Too Long
    unsupported_media_type = 415,  ///< Unsupported Media Type: a body that is not JSON or a form
    range_not_satisfiable = 416,   ///< Range Not Satisfiable: a `Range` outside a file
    im_a_teapot = 418,             ///< I'm a teapot
    unprocessable_content = 422,   ///< Unprocessable Content
    upgrade_required = 426,        ///< Upgrade Required: a plain request to a WebSocket route
    too_many_requests = 429,       ///< Too Many Requests (RFC 6585)
    request_header_fields_too_large = 431,  ///< Request Header Fields Too Large (RFC 6585)
    internal_server_error = 500,            ///< Internal Server Error: a handler threw
    not_implemented = 501,                  ///< Not Implemented: a transfer coding the server lacks
    bad_gateway = 502,                      ///< Bad Gateway
    service_unavailable = 503,              ///< Service Unavailable (send `Retry-After` with it)
    gateway_timeout = 504,                  ///< Gateway Timeout
};

/// The reason phrase of `s` ("Not Found"), or "Unknown" for an unnamed code.
std::string_view reason_phrase(Status s) noexcept;

/// True for 1xx, 204 and 304: statuses whose responses never carry a body (RFC 9110 6.4.1).
constexpr bool status_forbids_body(Status s) noexcept {
    const auto code = static_cast<unsigned>(s);
    return code < 200 || code == 204 || code == 304;
}

}  // namespace flamecpp
