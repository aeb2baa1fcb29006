// A literal route whose template names a convertor that does not exist.
// expect: flamecpp: the route template gives a Path<\\?"name\\?"> parameter an unknown convertor
// expect: \{name:int\}
// expect: (Pattern = .*"/users/\{id:integer\}"|route<"/users/\{id:integer\}">)
#include <flamecpp/flamecpp.hpp>

flamecpp::Response user(flamecpp::Path<"id", int>) { return {}; }

int main() {
    flamecpp::App app;
#ifdef FLAMECPP_FIXED
    app.route<"/users/{id:int}">(user);
#else
    app.route<"/users/{id:integer}">(user);
#endif
}
