// A middleware that does not take Next can never pass the request on.
// expect-first-error: flamecpp: a middleware takes flamecpp::Next, the rest of the pipeline
// expect: middleware
#include <flamecpp/flamecpp.hpp>

using flamecpp::Response;
using flamecpp::Task;

#ifdef FLAMECPP_FIXED
Task<Response> tag(flamecpp::Request&, flamecpp::Next next) {
    auto response = co_await next();
    response.with_header("X-Tag", "1");
    co_return response;
}
#else
Task<Response> tag(flamecpp::Request&) { co_return Response::text("always this"); }
#endif

int main() {
    flamecpp::App app;
    app.middleware(tag);
}
