// The path-template compiler and matcher with its convertors. The input is a template, a
// newline, then a path: the template is compiled (a bad one must be refused with
// std::invalid_argument, nothing else) and added beside fixed routes, then the path is
// matched. A match's parameters must pass their convertor.
#include "routing/router.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string_view>
#include <vector>

namespace {

using flamecpp::Method;
using flamecpp::detail::Router;

class NullHandler final : public flamecpp::detail::RouteHandler {
public:
    bool call_sync(flamecpp::detail::CallContext&, flamecpp::Response&) override { return true; }
    flamecpp::Task<void> call_async(flamecpp::detail::CallContext&, flamecpp::Response&) override {
        co_return;
    }
};

void add(Router& router, std::string_view pattern) {
    flamecpp::detail::Requirements none;
    router.add(pattern, flamecpp::MethodSet{Method::get}, std::make_unique<NullHandler>(), none);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    auto newline = input.find('\n');
    std::string_view pattern = input.substr(0, newline);
    std::string_view path = newline == std::string_view::npos ? input : input.substr(newline + 1);

    try {
        auto segments = flamecpp::detail::compile_template(pattern);
        (void)segments;
    } catch (const std::invalid_argument&) {
    }

    Router router;
    for (std::string_view fixed :
         {"/", "/items/{id:int}", "/files/{rest:path}", "/users/{name}/{score:float}",
          "/by-uuid/{id:uuid}", "/a%20b/{x}"}) {
        add(router, fixed);
    }
    try {
        add(router, pattern);
    } catch (const std::invalid_argument&) {
    }

    flamecpp::detail::MatchScratch scratch;
    std::vector<flamecpp::PathParam> params;
    auto result = router.match(Method::get, path, scratch, params);
    if (result.status == flamecpp::detail::MatchStatus::found) {
        if (result.route == nullptr) {
            std::fprintf(stderr, "fuzz: found without a route\n");
            std::abort();
        }
        for (const auto& segment : result.route->segments) {
            if (!segment.is_param) {
                continue;
            }
            const flamecpp::PathParam* param = nullptr;
            for (const auto& p : params) {
                if (p.name == segment.text) {
                    param = &p;
                }
            }
            if (param == nullptr ||
                (segment.convertor != flamecpp::Convertor::path &&
                 !flamecpp::detail::convertor_accepts(segment.convertor, param->value))) {
                std::fprintf(stderr, "fuzz: parameter '%s' of '%s' is missing or invalid\n",
                             segment.text.c_str(), result.route->pattern.c_str());
                std::abort();
            }
        }
    }
    return 0;
}
