// A Header default that does not fit the parameter's type.
// expect: flamecpp: the default of a Header<Name, T, Default> must fit T
// expect: an integer for integers
#include <flamecpp/flamecpp.hpp>

#ifdef FLAMECPP_FIXED
flamecpp::Response view(flamecpp::Header<"X-Limit", int, 10>) { return {}; }
#else
flamecpp::Response view(flamecpp::Header<"X-Limit", int, "ten">) { return {}; }
#endif

int main() {
    flamecpp::App app;
    app.route("/", view);
}
