// A handler whose signature cannot be read.
// expect: flamecpp: the handler's signature cannot be read
// expect-first-error: flamecpp: the handler's signature cannot be read
#include <flamecpp/flamecpp.hpp>

int main() {
    flamecpp::App app;
#ifdef FLAMECPP_FIXED
    app.route("/", [](flamecpp::Request&) { return flamecpp::Response{}; });
#else
    app.route("/", [](auto&) { return flamecpp::Response{}; });
#endif
}
