// A described Body<T> struct with a field of a type JSON cannot hold (object keys are strings).
// expect: flamecpp: a field of a described struct has a type that cannot be read
// expect: std::map<std::string, U>
// expect: Field = std::map<int, int
#include <map>
#include <string>

#include <flamecpp/body.hpp>
#include <flamecpp/flamecpp.hpp>

struct Item {
    std::string name;
#ifdef FLAMECPP_FIXED
    std::map<std::string, int> stock;
#else
    std::map<int, int> stock;
#endif
};
BOOST_DESCRIBE_STRUCT(Item, (), (name, stock))

flamecpp::Response create(flamecpp::Body<Item>) { return {}; }

int main() {
    flamecpp::App app;
    app.route("/items", create, {flamecpp::Method::post});
}
