// Registering a type that is not a component.
// expect: flamecpp: app.component\(\) takes a component type
// expect: T = Plain
#include <memory>

#include <flamecpp/flamecpp.hpp>

struct Plain {};

int main() {
    flamecpp::App app;
    app.component(std::make_shared<Plain>());
}
