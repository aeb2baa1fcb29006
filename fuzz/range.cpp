// Range, conditional-request and HTTP-date parsing: parse_range's answer always lies inside
// the file, decide_file_answer never answers a range the file lacks, and a date that parses
// formats back to one that parses to the same second.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "http/files.hpp"
#include "http/writer.hpp"

namespace {

[[noreturn]] void fail(const char* what) {
    std::fprintf(stderr, "fuzz: %s\n", what);
    std::abort();
}

void check_range(std::string_view header, std::uint64_t size) {
    using flamecpp::detail::ByteRange;
    const ByteRange r = flamecpp::detail::parse_range(header, size);
    if (r.kind == ByteRange::Kind::single && (r.first > r.last || r.last >= size)) {
        fail("a range outside the file");
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    for (std::uint64_t file_size : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{1000},
                                    std::uint64_t{1} << 40, ~std::uint64_t{0}}) {
        check_range(text, file_size);
        std::string with_unit = "bytes=";
        with_unit.append(text);
        check_range(with_unit, file_size);
    }

    // The input split in two: a header for each condition.
    const std::size_t cut = text.find('\n');
    const std::string_view a = text.substr(0, cut);
    const std::string_view b =
        cut == std::string_view::npos ? std::string_view{} : text.substr(cut + 1);
    flamecpp::detail::FileConditions c;
    c.if_none_match = a;
    c.if_range = a;
    c.range = b;
    const auto d = flamecpp::detail::decide_file_answer(c, "\"abc\"", 1000, 1000);
    if (d.kind == flamecpp::detail::FileDecision::Kind::partial &&
        (d.first > d.last || d.last >= 1000)) {
        fail("a partial answer outside the file");
    }
    (void)flamecpp::detail::etag_list_matches(a, "\"abc\"", true);
    (void)flamecpp::detail::etag_list_matches(a, "W/\"abc\"", false);

    if (auto seconds = flamecpp::detail::parse_http_date(text)) {
        if (*seconds >= 0 && *seconds < std::int64_t{253402300800}) {  // years 1970 to 9999
            const std::string formatted =
                flamecpp::detail::format_http_date(static_cast<std::time_t>(*seconds));
            if (flamecpp::detail::parse_http_date(formatted) != seconds) {
                fail("a date does not survive formatting and parsing");
            }
        }
    }
    return 0;
}
