// Response::json of a described struct with a field JSON cannot hold.
// expect-first-error: flamecpp: a field of a described struct has a type that cannot be read
// expect: Field = std::pair<int, int>
#include <utility>

#include <flamecpp/body.hpp>
#include <flamecpp/flamecpp.hpp>

struct Point {
#ifdef FLAMECPP_FIXED
    int x = 0;
    int y = 0;
};
BOOST_DESCRIBE_STRUCT(Point, (), (x, y))
#else
    std::pair<int, int> xy;
};
BOOST_DESCRIBE_STRUCT(Point, (), (xy))
#endif

flamecpp::Response point() { return flamecpp::Response::json(Point{}, flamecpp::Status::created); }

int main() {
    flamecpp::App app;
    app.route("/point", point);
}
