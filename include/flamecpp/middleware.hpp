#pragma once

/// @file
/// Middleware: functions every request passes through on its way to the route and every
/// answer passes through on its way back, in registration order (the first registered is
/// the outermost layer). docs/middleware.md draws the onion.
///
/// A middleware takes `flamecpp::Next` (the rest of the pipeline) and any injectable
/// parameter a handler may take (`Request&`, components, `Header<...>`, ...), and returns
/// `Task<Response>`: it may answer at once, or await `next()` and change the answer.
///
/// @code
/// flamecpp::Task<flamecpp::Response> timing(flamecpp::Request& request, flamecpp::Next next) {
///     auto started = std::chrono::steady_clock::now();
///     auto response = co_await next();
///     auto took = std::chrono::steady_clock::now() - started;
///     response.with_header("Server-Timing", "app;dur=" + std::to_string(took.count() / 1000000));
///     co_return response;
/// }
/// app.middleware(timing);
/// @endcode

#include <cstddef>

#include <flamecpp/response.hpp>
#include <flamecpp/task.hpp>

namespace flamecpp {

namespace detail {
class Pipeline;
}

/// The rest of the pipeline after a middleware: the middleware registered after it, then the
/// route (or the app's 404, 405 or OPTIONS answer). Await it at most once.
class Next {
public:
    /// Runs the rest of the pipeline with the same request and gives back its answer. For a
    /// WebSocket upgrade the answer is a 101 whose headers go on the handshake response.
    /// Throws std::logic_error when called a second time.
    Task<Response> operator()() const;

private:
    friend class detail::Pipeline;
    Next() noexcept = default;
    Next(detail::Pipeline& pipeline, std::size_t index) noexcept
        : pipeline_(&pipeline), index_(index) {}

    detail::Pipeline* pipeline_ = nullptr;
    std::size_t index_ = 0;
};

}  // namespace flamecpp
