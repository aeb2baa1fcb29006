// A Cookie default that does not fit the parameter's type.
// expect: flamecpp: the default of a Cookie<Name, T, Default> must fit T
// expect: true/false for bool
#include <flamecpp/flamecpp.hpp>

#ifdef FLAMECPP_FIXED
flamecpp::Response view(flamecpp::Cookie<"consent", bool, false>) { return {}; }
#else
flamecpp::Response view(flamecpp::Cookie<"consent", bool, "no">) { return {}; }
#endif

int main() {
    flamecpp::App app;
    app.route("/", view);
}
