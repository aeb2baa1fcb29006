// Next exists only in a middleware; a route handler taking it is a mistake.
// expect-first-error: flamecpp: flamecpp::Next \(the rest of the pipeline\) exists only
// expect: (P = flamecpp::Next|Next)
#include <flamecpp/flamecpp.hpp>

using flamecpp::Response;
using flamecpp::Task;

#ifdef FLAMECPP_FIXED
Task<Response> view(flamecpp::Next next) { co_return co_await next(); }
int main() {
    flamecpp::App app;
    app.middleware(view);
}
#else
Task<Response> view(flamecpp::Next next) { co_return co_await next(); }
int main() {
    flamecpp::App app;
    app.route("/", view);
}
#endif
