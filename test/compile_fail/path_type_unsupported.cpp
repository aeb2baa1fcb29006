// A Path parameter of a type a path segment does not convert to.
// expect: flamecpp: Path<Name, T> takes T = std::string, std::string_view, an integer
// expect: Path<.*bool>
#include <flamecpp/flamecpp.hpp>

#ifdef FLAMECPP_FIXED
flamecpp::Response item(flamecpp::Path<"id", int>) { return {}; }
#else
flamecpp::Response item(flamecpp::Path<"id", bool>) { return {}; }
#endif

int main() {
    flamecpp::App app;
    app.route("/items/{id:int}", item);
}
