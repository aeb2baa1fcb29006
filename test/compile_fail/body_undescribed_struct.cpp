// A Body<T> of a struct that Boost.Describe does not know.
// expect: flamecpp: Body<T> takes bool, a number, std::string
// expect: Describe a struct with BOOST_DESCRIBE_STRUCT\(T, \(\), \(field, ...\)\)
// expect: Body<Item
#include <string>

#include <flamecpp/body.hpp>
#include <flamecpp/flamecpp.hpp>

struct Item {
    std::string name;
    double price;
};
#ifdef FLAMECPP_FIXED
BOOST_DESCRIBE_STRUCT(Item, (), (name, price))
#endif

flamecpp::Response create(flamecpp::Body<Item>) { return {}; }

int main() {
    flamecpp::App app;
    app.route("/items", create, {flamecpp::Method::post});
}
