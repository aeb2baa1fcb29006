// A middleware must give back an answer.
// expect-first-error: flamecpp: a middleware returns Task<Response>
// expect: (Result = void|Task<void>|awaitable<void)
#include <flamecpp/flamecpp.hpp>

using flamecpp::Response;
using flamecpp::Task;

#ifdef FLAMECPP_FIXED
Task<Response> log_it(flamecpp::Next next) { co_return co_await next(); }
#else
Task<void> log_it(flamecpp::Next next) { co_await next(); }
#endif

int main() {
    flamecpp::App app;
    app.middleware(log_it);
}
