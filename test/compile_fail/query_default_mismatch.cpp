// A default that does not fit the parameter's type.
// expect: flamecpp: the default of a Query<Name, T, Default> must fit T
#include <flamecpp/flamecpp.hpp>

#ifdef FLAMECPP_FIXED
flamecpp::Response view(flamecpp::Query<"limit", int, 10>) { return {}; }
#else
flamecpp::Response view(flamecpp::Query<"limit", int, "ten">) { return {}; }
#endif

int main() {
    flamecpp::App app;
    app.route("/", view);
}
