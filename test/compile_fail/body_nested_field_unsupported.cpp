// A field of a nested described struct of a type JSON cannot hold: Body<T> checks fields down
// through vectors and nested structs, and names the field's type.
// expect: flamecpp: a field of a described struct has a type that cannot be read
// expect: Field = std::set<int
#include <set>
#include <string>
#include <vector>

#include <flamecpp/body.hpp>
#include <flamecpp/flamecpp.hpp>

struct Shelf {
#ifdef FLAMECPP_FIXED
    std::vector<int> slots;
#else
    std::set<int> slots;
#endif
};
BOOST_DESCRIBE_STRUCT(Shelf, (), (slots))

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
