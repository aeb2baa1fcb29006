// An HTTPEndpoint's get_doc that is not a flamecpp::Operation.
// expect: flamecpp: an HTTPEndpoint's get_doc, post_doc, ... is a static member of type
#include <string>

#include <flamecpp/flamecpp.hpp>

struct Item : flamecpp::HTTPEndpoint {
#ifdef FLAMECPP_FIXED
    static inline const flamecpp::Operation get_doc{.summary = "Read an item"};
#else
    static inline const std::string get_doc = "Read an item";
#endif
    std::string get() { return "item"; }
};

int main() {
    flamecpp::App app;
    app.route<Item>("/item");
}
