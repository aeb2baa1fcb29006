#pragma once

/// @file
/// Middleware that most services want, with Starlette's behaviour. Register them with
/// `app.middleware(...)`; docs/middleware.md lists them.
///
/// @code
/// app.middleware(flamecpp::RequestID{});
/// app.middleware(flamecpp::TrustedHost{{"example.com", "*.example.com"}});
/// app.middleware(flamecpp::CORS{{.allow_origins = {"https://app.example.com"}}});
/// app.middleware(flamecpp::GZip{});
/// @endcode

#include <cstddef>
#include <cstdint>
#include <memory>
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
    /// The middleware: takes the request's ID (or makes one), awaits `next`, and puts the ID on
    /// the answer unless the answer has that header already.
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
    /// `allowed_hosts`: host names (`example.com`), patterns (`*.example.com`) or `*`.
    explicit TrustedHost(std::vector<std::string> allowed_hosts);
    /// The middleware: answers 400 `Invalid host header` itself for a `Host` not allowed, else
    /// awaits `next`.
    Task<Response> operator()(Request& request, Next next) const;

    /// True when `host` (a Host header value, port included or not) is allowed.
    bool allows(std::string_view host) const noexcept;

private:
    std::vector<std::string> allowed_;
    bool any_ = false;
};

/// What CORS allows. The defaults allow nothing cross-origin but simple GET requests from no
/// origin at all: list what the browser's pages may do.
struct CORSOptions {
    /// Origins allowed, exactly as browsers send them (`https://app.example.com`), or `"*"`.
    std::vector<std::string> allow_origins;
    /// An ECMAScript regular expression the whole origin must match, as another way to be
    /// allowed (the C++ literal `R"(https://.*[.]example[.]com)"`); empty: none. A bad expression
    /// throws std::invalid_argument from the CORS constructor.
    std::string allow_origin_regex;
    /// Methods a preflight may ask for, or `"*"` for any.
    std::vector<std::string> allow_methods = {"GET"};
    /// Request headers a preflight may ask for (case-insensitive), or `"*"` for any. `Accept`,
    /// `Accept-Language`, `Content-Language` and `Content-Type` are always allowed.
    std::vector<std::string> allow_headers;
    /// Whether pages may send credentials (cookies, `Authorization`): the answer then names the
    /// origin instead of `*`, and says `Access-Control-Allow-Credentials: true`.
    bool allow_credentials = false;
    /// Response headers a page may read beyond the CORS-safelisted ones.
    std::vector<std::string> expose_headers;
    /// How long (seconds) a browser may keep a preflight's answer.
    std::int64_t max_age = 600;
};

/// Cross-origin resource sharing, with Starlette's semantics. A preflight (`OPTIONS` with
/// `Origin` and `Access-Control-Request-Method`) is answered here for any path, before
/// routing: 200 with an empty body when the origin, method and headers are allowed, else 400
/// `Disallowed CORS origin` (or `method`, `headers`, comma-separated). Any other request from
/// an allowed `Origin` goes on, and its answer gets `Access-Control-Allow-Origin`,
/// `Access-Control-Allow-Credentials` and `Access-Control-Expose-Headers` as configured; from
/// an origin not allowed it gets no `Access-Control-*` header. Answers that depend on the
/// origin carry `Vary: Origin`.
class CORS {
public:
    /// Throws std::invalid_argument when `options.allow_origin_regex` is not a valid ECMAScript
    /// regular expression.
    explicit CORS(CORSOptions options = {});
    /// The middleware: answers a preflight itself, else awaits `next` and adds the CORS headers
    /// its origin gets.
    Task<Response> operator()(Request& request, Next next) const;

    /// True when `origin` is allowed (listed, `*`, or matching the regular expression).
    bool allows_origin(std::string_view origin) const;

    /// Internal: the options digested once, defined inside the library.
    struct Policy;

private:
    std::shared_ptr<const Policy> policy_;
};

/// How GZip compresses.
struct GZipOptions {
    /// Bodies smaller than this (bytes) are sent as they are; streamed bodies are always
    /// compressed.
    std::size_t minimum_size = 500;
    /// zlib's compression level, 1 (fastest) to 9 (smallest).
    int level = 6;
};

/// Compresses answers with gzip (zlib) for clients whose `Accept-Encoding` allows it, when
/// the body is at least `minimum_size` bytes (or streamed) and its type is text (`text/*`
/// but `text/event-stream`), JSON, JavaScript, XML or SVG (`+json` and `+xml` types
/// included). Never 1xx, 204, 206 or 304 answers, answers to HEAD, or answers that already
/// have a `Content-Encoding`. Every answer it could compress gets `Vary: Accept-Encoding`;
/// a compressed one gets `Content-Encoding: gzip` and its strong `ETag` made weak. Streamed
/// bodies are compressed chunk by chunk, each chunk flushed as the handler writes it.
class GZip {
public:
    /// Throws std::invalid_argument when `options.level` is not 1 to 9.
    explicit GZip(GZipOptions options = {});
    /// The middleware: awaits `next` and compresses the answer when the rules above allow it.
    Task<Response> operator()(Request& request, Next next) const;

    /// True when an `Accept-Encoding` value allows gzip (`gzip` or `*` with a q-value above 0).
    static bool accepts_gzip(std::string_view accept_encoding) noexcept;
    /// True for the media types compressed (parameters ignored, case-insensitive).
    static bool compressible(std::string_view content_type) noexcept;
    /// `body` as a gzip member at `level` (1-9); throws std::runtime_error when zlib fails (as
    /// for a level it rejects).
    static std::string compress(std::string_view body, int level = 6);

private:
    GZipOptions options_;
};

/// Sends plain-HTTP requests to HTTPS: a 307 to the same host and target with the `https`
/// scheme (port 80 dropped, any other port kept); a WebSocket upgrade is answered the same
/// way. Requests whose scheme() is already https pass (behind a proxy, register ProxyHeaders
/// first). A request without `Host` gets 400.
class HTTPSRedirect {
public:
    /// The middleware: answers the 307 (or the 400) itself for a plain-HTTP request, else
    /// awaits `next`.
    Task<Response> operator()(Request& request, Next next) const;
};

/// Believes `X-Forwarded-For` and `X-Forwarded-Proto` from trusted proxies only, so that
/// handlers, url_for and HTTPSRedirect see the client's address and scheme behind nginx: when
/// the connection comes from a trusted address, client() becomes the rightmost address of
/// `X-Forwarded-For` that is not itself a trusted proxy (with port 0), and scheme() the last
/// value of `X-Forwarded-Proto`, the nearest proxy's (one that is not http, https, ws or wss
/// is ignored). From any other address both headers are ignored.
class ProxyHeaders {
public:
    /// Addresses (`127.0.0.1`, `::1`), networks (`10.0.0.0/8`, `fd00::/8`) or `"*"` for any.
    /// An entry that is none of these throws std::invalid_argument.
    explicit ProxyHeaders(const std::vector<std::string>& trusted = {"127.0.0.1", "::1"});
    /// The middleware: from a trusted peer, sets the request's client() and scheme() from the
    /// forwarded headers (Request::set_client, Request::set_scheme); then awaits `next`.
    Task<Response> operator()(Request& request, Next next) const;

    /// True when `address` (an IP address, without port) is a trusted proxy.
    bool trusts(std::string_view address) const noexcept;

    /// Internal: the parsed addresses and networks, defined inside the library.
    struct Trusted;

private:
    std::shared_ptr<const Trusted> trusted_;
};

}  // namespace flamecpp
