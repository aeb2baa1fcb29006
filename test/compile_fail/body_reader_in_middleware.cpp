// A middleware runs before the body is read: it cannot take the body as a stream.
// expect-first-error: flamecpp: BodyReader& and FormData& \(the request body as it arrives\)
// expect: (P = flamecpp::BodyReader&|BodyReader)
#include <flamecpp/body_reader.hpp>
#include <flamecpp/flamecpp.hpp>

using flamecpp::Response;
using flamecpp::Task;

#ifdef FLAMECPP_FIXED
Task<Response> view(flamecpp::BodyReader& body) {
    while (co_await body.read()) {
    }
    co_return Response::text("read");
}
int main() {
    flamecpp::App app;
    app.route("/", view, {flamecpp::Method::post});
}
#else
Task<Response> logging(flamecpp::BodyReader& body, flamecpp::Next next) {
    (void)body;
    co_return co_await next();
}
int main() {
    flamecpp::App app;
    app.middleware(logging);
}
#endif
