// A function object with two operator(): which one is the handler?
// expect: flamecpp: the handler's signature cannot be read
// expect-first-error: flamecpp: the handler's signature cannot be read
// expect: no overloads
#include <flamecpp/flamecpp.hpp>

struct Greeter {
#ifndef FLAMECPP_FIXED
    flamecpp::Response operator()() const { return flamecpp::Response::text("hello"); }
#endif
    flamecpp::Response operator()(flamecpp::Query<"name"> name) const {
        return flamecpp::Response::text("hello " + *name);
    }
};

int main() {
    flamecpp::App app;
    app.route("/", Greeter{});
}
