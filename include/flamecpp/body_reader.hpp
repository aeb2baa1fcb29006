#pragma once

/// @file
/// The request body as a stream: a handler that takes `BodyReader&` is called as soon as the
/// request's header has arrived, and reads the body chunk by chunk as the client sends it.
///
/// @code
/// flamecpp::Task<boost::json::value> count(flamecpp::BodyReader& body) {
///     std::uint64_t lines = 0;
///     while (auto chunk = co_await body.read()) {
///         lines += std::ranges::count(*chunk, '\n');
///     }
///     co_return boost::json::value{{"lines", lines}};
/// }
/// app.route("/count", count, {flamecpp::Method::post}, "count",
///           {.max_body_bytes = std::size_t{1} << 30});
/// @endcode

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string_view>

#include <flamecpp/detail/inject.hpp>
#include <flamecpp/task.hpp>

namespace flamecpp {

namespace detail {

/// Where a BodyReader's chunks come from: the HTTP session.
class BodySource {
public:
    virtual Task<std::optional<std::string_view>> next() = 0;
    virtual std::uint64_t received() const noexcept = 0;
    virtual std::optional<std::uint64_t> length() const noexcept = 0;

protected:
    ~BodySource() = default;
};

}  // namespace detail

/// The body of the request being handled, read as it arrives; memory stays at one read's
/// worth whatever the body's size. The route's body limit (RouteOptions::max_body_bytes, else
/// Limits::max_body_bytes) holds as it is read. Middleware runs before the body is read, and
/// `Request::body()` stays empty for such a route.
///
/// A body the handler leaves unread is not drained: the connection closes after the answer.
class BodyReader {
public:
    /// Internal: the server makes the reader a handler taking `BodyReader&` receives.
    explicit BodyReader(detail::BodySource& source) noexcept : source_(&source) {}

    /// The next bytes of the body, de-chunked; an empty optional once it has all been read.
    /// The view stays valid until the next call. Throws HTTPException: 413 when the body
    /// crosses the route's limit, 400 when the client ends it early or its chunked framing is
    /// bad, 408 when it stops arriving (Limits::body_timeout). The connection closes after
    /// any of those.
    Task<std::optional<std::string_view>> read() { return source_->next(); }
    /// Bytes of the body read so far.
    std::uint64_t received() const noexcept { return source_->received(); }
    /// The length the client declared (Content-Length); none for a chunked body.
    std::optional<std::uint64_t> length() const noexcept { return source_->length(); }

private:
    detail::BodySource* source_;
};

namespace detail {

template <>
struct Injector<BodyReader&> : NoRequirements {
    static constexpr bool available = true;
    static constexpr BodyUse body_use = BodyUse::stream;
    static constexpr bool route_only = true;
    static BodyReader& get(CallContext& ctx) {
        if (ctx.body == nullptr) {
            throw std::logic_error(
                "flamecpp: BodyReader& is given to route handlers only (not to middleware, "
                "exception handlers or component factories)");
        }
        return *ctx.body;
    }
};

}  // namespace detail
}  // namespace flamecpp
