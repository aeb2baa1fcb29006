// An HTTPEndpoint class with no verb member.
// expect: flamecpp: the HTTPEndpoint class has no handler member
#include <flamecpp/flamecpp.hpp>

struct Empty : flamecpp::HTTPEndpoint {
#ifdef FLAMECPP_FIXED
    flamecpp::Response get() { return {}; }
#else
    flamecpp::Response fetch() { return {}; }
#endif
};

int main() {
    flamecpp::App app;
    app.route<Empty>("/");
}
