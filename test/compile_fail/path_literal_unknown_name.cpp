// A literal route whose template lacks the handler's Path parameter.
// expect: flamecpp: a Path<\\?"name\\?"> parameter names no parameter of the route template
// expect: (Pattern = .*"/users/\{user_id:int\}"|route<"/users/\{user_id:int\}">)
// expect: (P = flamecpp::Path<.*"id"|Path<\{\{105, 100, 0\}\}, int>)
// (clang 14 shows P's name as its characters: "id" is {{105, 100, 0}})
#include <flamecpp/flamecpp.hpp>

#ifdef FLAMECPP_FIXED
flamecpp::Response user(flamecpp::Path<"user_id", int>) { return {}; }
#else
flamecpp::Response user(flamecpp::Path<"id", int>) { return {}; }
#endif

int main() {
    flamecpp::App app;
    app.route<"/users/{user_id:int}">(user);
}
