// A handler returning something that cannot become a response.
// expect: flamecpp: a handler returns a type that cannot become a response
// expect: a struct described with BOOST_DESCRIBE_STRUCT \(include <flamecpp/body.hpp>\)
// expect: (R = int|check_result<int,)
#include <flamecpp/body.hpp>
#include <flamecpp/flamecpp.hpp>

#ifdef FLAMECPP_FIXED
struct Count {
    int count;
};
BOOST_DESCRIBE_STRUCT(Count, (), (count))

Count view() { return {1}; }  // a described struct is a JSON response
#else
int view() { return 1; }
#endif

int main() {
    flamecpp::App app;
    app.route("/", view);
}
