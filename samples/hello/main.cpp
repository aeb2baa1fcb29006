// hello: class-based HTTP endpoints (see docs/samples.md, `hello`).
#include <string>

#include <flamecpp/flamecpp.hpp>

using flamecpp::Path;
using flamecpp::Response;

struct Homepage : flamecpp::HTTPEndpoint {
    Response get() { return Response::text("Hello, world!"); }
};

struct User : flamecpp::HTTPEndpoint {
    Response get(Path<"username"> username) { return Response::text("Hello, " + *username); }
};

int main(int argc, char** argv) {
    flamecpp::App app;
    app.route<Homepage>("/");
    app.route<User>("/{username}");
    return app.run(argc, argv);
}
