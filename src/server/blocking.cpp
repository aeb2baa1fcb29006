#include <algorithm>
#include <atomic>
#include <memory>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <flamecpp/blocking.hpp>

namespace flamecpp {
namespace asio = boost::asio;

namespace {

std::atomic<unsigned> pool_threads{16};

asio::thread_pool& blocking_pool() {
    static asio::thread_pool pool(std::max(1u, pool_threads.load()));
    return pool;
}

/// Posts `work` to the pool; the completion handler (the awaiting coroutine) is posted back to
/// its own executor, kept alive meanwhile by a work guard.
template <class Token>
auto async_run_on_pool(std::function<void()> work, Token&& token) {
    return asio::async_initiate<Token, void(std::exception_ptr)>(
        [](auto handler, std::function<void()> job) {
            auto guard = asio::make_work_guard(asio::get_associated_executor(handler));
            asio::post(blocking_pool(), [handler = std::move(handler), job = std::move(job),
                                         guard = std::move(guard)]() mutable {
                std::exception_ptr error;
                try {
                    job();
                } catch (...) {
                    error = std::current_exception();
                }
                auto home = guard.get_executor();
                asio::post(home, [handler = std::move(handler), error]() mutable {
                    std::move(handler)(error);
                });
                guard.reset();
            });
        },
        token, std::move(work));
}

}  // namespace

void set_blocking_threads(unsigned threads) { pool_threads = threads; }

namespace detail {
Task<void> run_on_blocking_pool(std::function<void()> work) {
    // A completion whose first argument is an exception_ptr rethrows it in the coroutine.
    co_await async_run_on_pool(std::move(work), asio::use_awaitable);
}
}  // namespace detail

}  // namespace flamecpp
