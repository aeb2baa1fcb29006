// A factory registered for a type that is not a component.
// expect: flamecpp: app.component<T>\(\) takes a component type
// expect: (T = CurrentUser|component<CurrentUser,)
#include <string>

#include <flamecpp/flamecpp.hpp>

#ifdef FLAMECPP_FIXED
struct CurrentUser : flamecpp::Component {
    std::string name;
};
CurrentUser current_user(flamecpp::Header<"X-User", std::string, "anonymous"> user) {
    return {{}, *user};
}
#else
struct CurrentUser {
    std::string name;
};
CurrentUser current_user(flamecpp::Header<"X-User", std::string, "anonymous"> user) {
    return {*user};
}
#endif

int main() {
    flamecpp::App app;
    app.component<CurrentUser>(current_user);
}
