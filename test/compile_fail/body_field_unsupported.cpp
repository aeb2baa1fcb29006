// A described Body<T> struct with a field of a type JSON cannot be bound to.
// expect: flamecpp: Body<T> takes bool, a number, std::string
// expect: a struct described with BOOST_DESCRIBE_STRUCT whose fields are of these types
// expect: read a map as boost::json::object
// expect: Body<Item
#include <map>
#include <string>

#include <boost/json/object.hpp>

#include <flamecpp/body.hpp>
#include <flamecpp/flamecpp.hpp>

struct Item {
    std::string name;
#ifdef FLAMECPP_FIXED
    boost::json::object stock;
#else
    std::map<std::string, int> stock;
#endif
};
BOOST_DESCRIBE_STRUCT(Item, (), (name, stock))

flamecpp::Response create(flamecpp::Body<Item>) { return {}; }

int main() {
    flamecpp::App app;
    app.route("/items", create, {flamecpp::Method::post});
}
