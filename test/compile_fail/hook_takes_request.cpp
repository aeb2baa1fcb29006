// A startup hook runs outside any request: it cannot take one.
// expect-first-error: flamecpp: a startup or shutdown hook takes App& and components only
// expect: P = flamecpp::Request&
#include <flamecpp/flamecpp.hpp>

#ifdef FLAMECPP_FIXED
void warm_up(flamecpp::App& app) { (void)app; }
#else
void warm_up(flamecpp::Request& request) { (void)request; }
#endif

int main() {
    flamecpp::App app;
    app.on_startup(warm_up);
}
