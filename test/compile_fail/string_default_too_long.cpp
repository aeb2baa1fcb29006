// A string default longer than a template argument can hold.
// expect: flamecpp: a string default is at most 63 characters
// expect: take std::optional<std::string> with no default and use value_or
#include <optional>
#include <string>

#include <flamecpp/flamecpp.hpp>

#ifdef FLAMECPP_FIXED
std::string view(flamecpp::Query<"fields", std::optional<std::string>> fields) {
    return fields->value_or(
        "id,name,price,currency,stock,warehouse,supplier,created_at,updated_at");
}
#else
std::string view(
    flamecpp::Query<"fields",
                    std::string,
                    "id,name,price,currency,stock,warehouse,supplier,created_at,updated_at">
        fields) {
    return *fields;
}
#endif

int main() {
    flamecpp::App app;
    app.route("/items", view);
}
