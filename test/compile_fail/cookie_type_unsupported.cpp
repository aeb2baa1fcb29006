// A Cookie of a type a cookie value does not convert to (no std::vector: one value).
// expect: flamecpp: Cookie<Name, T> takes T = std::string, std::string_view
// expect: Cookie<.*std::vector<int
#include <string>
#include <vector>

#include <flamecpp/flamecpp.hpp>

#ifdef FLAMECPP_FIXED
flamecpp::Response view(flamecpp::Cookie<"ids", std::string>) { return {}; }
#else
flamecpp::Response view(flamecpp::Cookie<"ids", std::vector<int> >) { return {}; }
#endif

int main() {
    flamecpp::App app;
    app.route("/", view);
}
