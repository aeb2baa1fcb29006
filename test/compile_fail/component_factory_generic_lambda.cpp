// A component factory whose signature cannot be read.
// expect: flamecpp: a component factory's signature cannot be read
// expect-first-error: flamecpp: a component factory's signature cannot be read
#include <string>

#include <flamecpp/flamecpp.hpp>

struct CurrentUser : flamecpp::Component {
    std::string name;
};

int main() {
    flamecpp::App app;
#ifdef FLAMECPP_FIXED
    app.component<CurrentUser>(
        [](flamecpp::Header<"X-User", std::string, "anonymous"> user) -> CurrentUser {
            return {{}, *user};
        });
#else
    app.component<CurrentUser>([](auto user) -> CurrentUser { return {{}, *user}; });
#endif
}
