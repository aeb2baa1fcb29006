// A literal route whose convertor does not fit the Path parameter's type.
// expect: flamecpp: a Path<"name", T> parameter's type does not fit the template's convertor
// expect: Pattern = .*"/users/\{name\}"
#include <flamecpp/flamecpp.hpp>

flamecpp::Response user(flamecpp::Path<"name", int>) { return {}; }

int main() {
    flamecpp::App app;
    app.route<"/users/{name}">(user);
}
