// responds<T>() for the schema of a type that is not described.
// expect: flamecpp: no JSON schema is known for this type
// expect: BOOST_DESCRIBE_STRUCT
#include <string>

#include <flamecpp/body.hpp>
#include <flamecpp/flamecpp.hpp>

struct Receipt {
    std::string id;
};
#ifdef FLAMECPP_FIXED
BOOST_DESCRIBE_STRUCT(Receipt, (), (id))
#endif

flamecpp::Response pay() { return flamecpp::Response::empty(flamecpp::Status::accepted); }

int main() {
    flamecpp::App app;
    app.route("/pay", pay, {flamecpp::Method::post}, {},
              {.doc = {.responses = {flamecpp::responds<Receipt>(flamecpp::Status::accepted)}}});
}
