// Exception handlers are registered for a class type.
// expect-first-error: flamecpp: exception_handler<T>\(\) takes a class type T
// expect: exception
#include <stdexcept>

#include <flamecpp/flamecpp.hpp>

#ifdef FLAMECPP_FIXED
using Thrown = std::runtime_error;
flamecpp::Response on_error(const Thrown& e) { return flamecpp::Response::text(e.what()); }
#else
using Thrown = int;
flamecpp::Response on_error(const Thrown&) { return flamecpp::Response::text("an int"); }
#endif

int main() {
    flamecpp::App app;
    app.exception_handler<Thrown>(on_error);
}
