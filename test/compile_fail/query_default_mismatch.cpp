// A default that does not fit the parameter's type.
// expect: flamecpp: the default of a Query<Name, T, Default> must fit T
#include <flamecpp/flamecpp.hpp>

flamecpp::Response view(flamecpp::Query<"limit", int, "ten">) { return {}; }

int main() {
    flamecpp::App app;
    app.route("/", view);
}
