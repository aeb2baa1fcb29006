// A handler returning a described struct with a field JSON cannot hold: one flamecpp line
// naming the field's type, not Boost.JSON's template error.
// expect-first-error: flamecpp: a field of a described struct has a type that cannot be read
// expect: Field = const char\*
#include <string>

#include <flamecpp/body.hpp>
#include <flamecpp/flamecpp.hpp>

struct Report {
    int count = 0;
#ifdef FLAMECPP_FIXED
    std::string owner;
#else
    const char* owner = "";
#endif
};
BOOST_DESCRIBE_STRUCT(Report, (), (count, owner))

Report report() { return {}; }

int main() {
    flamecpp::App app;
    app.route("/report", report);
}
