// FLAMECPP_RULES naming a field the struct does not have.
// expect: (titel.* is not a member of .*NewTodo|no member named .titel)
#include <string>

#include <flamecpp/body.hpp>
#include <flamecpp/flamecpp.hpp>

struct NewTodo {
    std::string title;
};
BOOST_DESCRIBE_STRUCT(NewTodo, (), (title))
#ifdef FLAMECPP_FIXED
FLAMECPP_RULES(NewTodo, (title, .min_length = 1))
#else
FLAMECPP_RULES(NewTodo, (titel, .min_length = 1))
#endif

flamecpp::Response create(flamecpp::Body<NewTodo>) { return {}; }

int main() {
    flamecpp::App app;
    app.route("/todos", create, {flamecpp::Method::post});
}
