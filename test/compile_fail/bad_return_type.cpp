// A handler returning something that cannot become a response.
// expect: flamecpp: a handler returns a type that cannot become a response
// expect: R = int
#include <flamecpp/flamecpp.hpp>

int view() { return 1; }

int main() {
    flamecpp::App app;
    app.route("/", view);
}
