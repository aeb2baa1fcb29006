// Rules that cannot apply to the parameter's type (a length on an integer).
// expect-first-error: flamecpp: these Rules do not fit the parameter's type
// expect: .min_length/.max_length/.pattern strings
#include <flamecpp/flamecpp.hpp>

#ifdef FLAMECPP_FIXED
using Limit = flamecpp::Query<"limit", int, 10, flamecpp::Rules{.minimum = 1, .maximum = 100}>;
#else
using Limit = flamecpp::Query<"limit", int, 10, flamecpp::Rules{.max_length = 3}>;
#endif

int list(Limit limit) { return *limit; }
flamecpp::Response handler(Limit limit) {
    return flamecpp::Response::text(std::to_string(list(limit)));
}

int main() {
    flamecpp::App app;
    app.route("/items", handler);
}
