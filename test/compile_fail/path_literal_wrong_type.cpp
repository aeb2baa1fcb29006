// A literal route whose convertor does not fit the Path parameter's type.
// expect: flamecpp: a Path<\\?"name\\?", T> parameter's type does not fit the template's convertor
// expect: (Pattern = .*"/users/\{name\}"|route<"/users/\{name\}">)
#include <flamecpp/flamecpp.hpp>

#ifdef FLAMECPP_FIXED
flamecpp::Response user(flamecpp::Path<"name", std::string>) { return {}; }
#else
flamecpp::Response user(flamecpp::Path<"name", int>) { return {}; }
#endif

int main() {
    flamecpp::App app;
    app.route<"/users/{name}">(user);
}
