// Query values are decoded, so a view has nothing to point at.
// expect: flamecpp: Query<Name, T> takes T = std::string
// expect: std::string_view cannot hold a decoded value
#include <flamecpp/flamecpp.hpp>

#ifdef FLAMECPP_FIXED
flamecpp::Response view(flamecpp::Query<"q", std::string>) { return {}; }
#else
flamecpp::Response view(flamecpp::Query<"q", std::string_view>) { return {}; }
#endif

int main() {
    flamecpp::App app;
    app.route("/", view);
}
