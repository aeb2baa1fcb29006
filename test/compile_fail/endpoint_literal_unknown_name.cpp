// A literal route for an HTTPEndpoint class whose member asks for a Path parameter the
// template lacks.
// expect: flamecpp: a Path<\\?"name\\?"> parameter names no parameter of the route template
// expect: (Pattern = .*"/items/\{item_id:int\}"|route<Item, "/items/\{item_id:int\}">)
#include <flamecpp/flamecpp.hpp>

struct Item : flamecpp::HTTPEndpoint {
#ifdef FLAMECPP_FIXED
    flamecpp::Response get(flamecpp::Path<"item_id", int>) { return {}; }
#else
    flamecpp::Response get(flamecpp::Path<"id", int>) { return {}; }
#endif
};

int main() {
    flamecpp::App app;
    app.route<Item, "/items/{item_id:int}">();
}
