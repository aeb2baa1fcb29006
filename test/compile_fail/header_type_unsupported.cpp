// A Header of a type a header value does not convert to (no std::vector: one value).
// expect: flamecpp: Header<Name, T> takes T = std::string, std::string_view
// expect: Header<.*std::vector<
#include <optional>
#include <string>
#include <vector>

#include <flamecpp/flamecpp.hpp>

#ifdef FLAMECPP_FIXED
flamecpp::Response view(flamecpp::Header<"X-Tags", std::optional<std::string>>) { return {}; }
#else
flamecpp::Response view(flamecpp::Header<"X-Tags", std::vector<std::string>>) { return {}; }
#endif

int main() {
    flamecpp::App app;
    app.route("/", view);
}
