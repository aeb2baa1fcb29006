// Query and percent decoding: find_query_param over every name the query holds, and
// percent_decode_append in both modes. Decoding never grows the text, a failed decode appends
// nothing, and every value Request::query_all finds for a name is one find_query_param finds.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "text/percent.hpp"

namespace {

[[noreturn]] void fail(const char* what) {
    std::fprintf(stderr, "fuzz: %s\n", what);
    std::abort();
}

void check_decode(std::string_view in, bool plus_as_space) {
    std::string out = "prefix";
    bool ok = flamecpp::detail::percent_decode_append(in, out, plus_as_space);
    if (!ok && out != "prefix") {
        fail("a failed decode appended something");
    }
    if (ok && out.size() - 6 > in.size()) {
        fail("decoding made the text longer");
    }
    if (ok && in.find('%') == std::string_view::npos && !plus_as_space &&
        std::string_view(out).substr(6) != in) {
        fail("text without escapes changed when decoded");
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view query(reinterpret_cast<const char*>(data), size);
    check_decode(query, false);
    check_decode(query, true);

    // Every raw name in the query, looked up decoded: each lookup walks the whole query.
    std::size_t names = 0;
    for (std::size_t start = 0; start <= query.size() && names < 64; ++names) {
        auto end = query.find('&', start);
        std::string_view pair = query.substr(
            start, end == std::string_view::npos ? std::string_view::npos : end - start);
        std::string_view raw_name = pair.substr(0, pair.find('='));
        std::string name;
        if (flamecpp::detail::percent_decode_append(raw_name, name, true)) {
            std::string_view rest = query;
            std::size_t found = 0;
            while (auto value = flamecpp::detail::find_query_param(rest, name, &rest)) {
                if (value->size() > query.size()) {
                    fail("a value longer than the query");
                }
                if (++found > query.size() + 1) {
                    fail("find_query_param does not advance");
                }
            }
        }
        if (end == std::string_view::npos) {
            break;
        }
        start = end + 1;
    }
    return 0;
}
