// route<E>() with a class that is not an HTTPEndpoint.
// expect: flamecpp: route<E>\(\) takes a class derived from flamecpp::HTTPEndpoint
// expect: (E = Items|check_endpoint<Items>)
#include <flamecpp/flamecpp.hpp>

#ifdef FLAMECPP_FIXED
struct Items : flamecpp::HTTPEndpoint {
#else
struct Items {
#endif
    flamecpp::Response get() { return {}; }
};

int main() {
    flamecpp::App app;
    app.route<Items>("/items");
}
