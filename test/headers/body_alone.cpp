// A body type written with nothing but <flamecpp/body.hpp>, as docs/injection.md shows: the
// header brings in what BOOST_DESCRIBE_STRUCT needs (a new user got 20+ errors without it).
#include <string>

#include <flamecpp/body.hpp>

struct Item {
    std::string name;
    double price = 0;
};
BOOST_DESCRIBE_STRUCT(Item, (), (name, price))

double price_of(flamecpp::Body<Item> item) { return item->price; }
