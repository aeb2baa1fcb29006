// An HTTPEndpoint class with no verb member.
// expect: flamecpp: the HTTPEndpoint class has no handler member
#include <flamecpp/flamecpp.hpp>

struct Empty : flamecpp::HTTPEndpoint {
    flamecpp::Response fetch() { return {}; }
};

int main() {
    flamecpp::App app;
    app.route<Empty>("/");
}
