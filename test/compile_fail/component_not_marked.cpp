// Registering a type that is not a component.
// expect: flamecpp: app.component\(\) takes a component type
// expect: (T = Plain|component<Plain>)
#include <memory>

#include <flamecpp/flamecpp.hpp>

#ifdef FLAMECPP_FIXED
struct Plain : flamecpp::Component {};
#else
struct Plain {};
#endif

int main() {
    flamecpp::App app;
    app.component(std::make_shared<Plain>());
}
