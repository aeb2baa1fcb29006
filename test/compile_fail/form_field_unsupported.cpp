// A Form<T> struct with a field a form value cannot be read as.
// expect: flamecpp: Form<T> takes a struct described with BOOST_DESCRIBE_STRUCT
// expect: For every field as text, take flamecpp::FormData
// expect: Form<Signup
#include <string>
#include <vector>

#include <flamecpp/flamecpp.hpp>
#include <flamecpp/forms.hpp>

struct Address {
    std::string city;
};
BOOST_DESCRIBE_STRUCT(Address, (), (city))

struct Signup {
    std::string email;
#ifdef FLAMECPP_FIXED
    std::string city;
#else
    Address address;
#endif
};
#ifdef FLAMECPP_FIXED
BOOST_DESCRIBE_STRUCT(Signup, (), (email, city))
#else
BOOST_DESCRIBE_STRUCT(Signup, (), (email, address))
#endif

flamecpp::Response signup(flamecpp::Form<Signup>) { return {}; }

int main() {
    flamecpp::App app;
    app.route("/signup", signup, {flamecpp::Method::post});
}
