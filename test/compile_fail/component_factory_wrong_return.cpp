// A component factory that returns something else than the component.
// expect: flamecpp: a factory registered with app.component<T>\(factory\) returns T or Task<T>
// expect: (T = CurrentUser|check_component_factory<CurrentUser,)
#include <string>

#include <flamecpp/flamecpp.hpp>

struct CurrentUser : flamecpp::Component {
    std::string name;
};

#ifdef FLAMECPP_FIXED
CurrentUser current_user(flamecpp::Header<"X-User", std::string, "anonymous"> user) {
    return {{}, *user};
}
#else
std::string current_user(flamecpp::Header<"X-User", std::string, "anonymous"> user) {
    return *user;
}
#endif

int main() {
    flamecpp::App app;
    app.component<CurrentUser>(current_user);
}
