// A field of a nested described struct of a type JSON cannot be bound to: Body<T> checks its
// own struct's fields at the route, nested ones when the body is read.
// expect: flamecpp: a Body<T> type, or a field of it, cannot be read from JSON
// expect: for a map: boost::json::object
// expect: (T = std::map<|bind_json<std::map<)
#include <map>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include <flamecpp/body.hpp>
#include <flamecpp/flamecpp.hpp>

struct Shelf {
#ifdef FLAMECPP_FIXED
    boost::json::object stock;
#else
    std::map<std::string, int> stock;
#endif
};
BOOST_DESCRIBE_STRUCT(Shelf, (), (stock))

struct Store {
    std::string name;
    std::vector<Shelf> shelves;
};
BOOST_DESCRIBE_STRUCT(Store, (), (name, shelves))

flamecpp::Response create(flamecpp::Body<Store>) { return {}; }

int main() {
    flamecpp::App app;
    app.route("/stores", create, {flamecpp::Method::post});
}
