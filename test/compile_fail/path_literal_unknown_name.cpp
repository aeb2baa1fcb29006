// A literal route whose template lacks the handler's Path parameter.
// expect: flamecpp: a Path<"name"> parameter names no parameter of the route template
// expect: Pattern = .*"/users/\{user_id:int\}"
// expect: P = flamecpp::Path<.*"id"
#include <flamecpp/flamecpp.hpp>

flamecpp::Response user(flamecpp::Path<"id", int>) { return {}; }

int main() {
    flamecpp::App app;
    app.route<"/users/{user_id:int}">(user);
}
