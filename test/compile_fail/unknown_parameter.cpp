// A handler parameter of a type nothing can inject.
// expect: flamecpp: a handler parameter has a type the injector cannot provide
// expect: (P = Unknown|check_parameter<Unknown,)
// expect: app.component
#include <memory>

#include <flamecpp/flamecpp.hpp>

#ifdef FLAMECPP_FIXED
struct Unknown : flamecpp::Component {};
#else
struct Unknown {};
#endif
flamecpp::Response view(Unknown) { return {}; }

int main() {
    flamecpp::App app;
    app.route("/", view);
#ifdef FLAMECPP_FIXED
    app.component(std::make_shared<Unknown>());
#endif
}
