// An HTTPEndpoint class that needs a constructor argument: it is created per request.
// expect: flamecpp: an HTTPEndpoint class is created per request and must be default-constructible
// expect: hold shared state in a component instead
#include <memory>
#include <string>

#include <flamecpp/flamecpp.hpp>

#ifdef FLAMECPP_FIXED
struct Store : flamecpp::Component {
    std::string name = "main";
};

struct Items : flamecpp::HTTPEndpoint {
    std::string get(Store& store) { return store.name; }
};
#else
struct Items : flamecpp::HTTPEndpoint {
    explicit Items(std::string name) : name_(std::move(name)) {}
    std::string get() { return name_; }

private:
    std::string name_;
};
#endif

int main() {
    flamecpp::App app;
    app.route<Items>("/items");
#ifdef FLAMECPP_FIXED
    app.component(std::make_shared<Store>());
#endif
}
