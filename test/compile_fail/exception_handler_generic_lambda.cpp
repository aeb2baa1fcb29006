// A generic lambda's parameters cannot be read, so nothing can be injected into them.
// expect-first-error: flamecpp: the exception handler's signature cannot be read
// expect: exception
#include <stdexcept>

#include <flamecpp/flamecpp.hpp>

int main() {
    flamecpp::App app;
#ifdef FLAMECPP_FIXED
    app.exception_handler<std::runtime_error>(
        [](const std::runtime_error& e) { return flamecpp::Response::text(e.what()); });
#else
    app.exception_handler<std::runtime_error>(
        [](const auto& e) { return flamecpp::Response::text(e.what()); });
#endif
}
