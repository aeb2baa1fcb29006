#pragma once

/// @file
/// Blocking work off the I/O thread. Handlers run on the thread that owns their connection,
/// next to every other connection of that thread, so a handler that blocks (a synchronous
/// database driver, a file read, `sleep`) stalls them all. `run_blocking` moves the call to a
/// shared pool and resumes the handler on its own thread when it is done.
///
/// @code
/// flamecpp::Task<boost::json::value> report(Database& db) {
///     auto rows = co_await flamecpp::run_blocking([&] { return db.query("select ..."); });
///     co_return to_json(rows);
/// }
/// @endcode

#include <concepts>
#include <functional>
#include <optional>
#include <type_traits>
#include <utility>

#include <flamecpp/task.hpp>

namespace flamecpp {

namespace detail {
/// Runs `work` on the blocking pool; the awaiting coroutine resumes on its own executor, where
/// an exception thrown by `work` is rethrown.
Task<void> run_on_blocking_pool(std::function<void()> work);

/// What run_blocking takes: something `f()` can be called on (it is called as an lvalue).
template <class F>
concept CallableAsLvalue = std::invocable<F&>;
}  // namespace detail

/// The number of threads of the blocking pool (created on first use of run_blocking).
/// Call it before that first use; later calls have no effect. Default: 16.
void set_blocking_threads(unsigned threads);

/// Calls `f()` on the blocking pool and returns its result, or rethrows its exception, in the
/// calling coroutine, which resumes on its own thread. `f` is kept alive in the caller's
/// frame until it returns, so it may capture the caller's locals by reference. A request
/// waiting here counts as busy for the shutdown grace period.
template <detail::CallableAsLvalue F>
Task<std::invoke_result_t<F&>> run_blocking(F f) {
    using R = std::invoke_result_t<F&>;
    if constexpr (std::is_void_v<R>) {
        co_await detail::run_on_blocking_pool([&f] { f(); });
    } else {
        std::optional<R> result;
        co_await detail::run_on_blocking_pool([&f, &result] { result.emplace(f()); });
        co_return std::move(*result);
    }
}

}  // namespace flamecpp
