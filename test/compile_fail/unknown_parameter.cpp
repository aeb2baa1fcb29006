// A handler parameter of a type nothing can inject.
// expect: flamecpp: a handler parameter has a type the injector cannot provide
// expect: P = Unknown
// expect: app.component
#include <flamecpp/flamecpp.hpp>

struct Unknown {};
flamecpp::Response view(Unknown) { return {}; }

int main() {
    flamecpp::App app;
    app.route("/", view);
}
