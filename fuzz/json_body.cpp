// JSON body binding: simdjson parses, the document becomes a Boost.JSON value, and
// bind_json fills a nested described struct. A bad document or a bad field must be an
// HTTPException 400 (nothing else escapes). A parsed document must survive a round trip:
// serialized by Boost.JSON and parsed again, it is the same value.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/describe/class.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <flamecpp/body.hpp>
#include <flamecpp/http_exception.hpp>

#include "json/reader.hpp"

namespace {

struct Line {
    std::string sku;
    std::int32_t quantity;
    std::optional<double> price;
    std::optional<std::uint8_t> discount;
};
BOOST_DESCRIBE_STRUCT(Line, (), (sku, quantity, price, discount))

struct Order {
    std::string customer;
    std::vector<Line> lines;
    std::optional<std::vector<std::string>> tags;
    bool gift;
    std::int64_t created;
    float weight;
    boost::json::object extra;
    std::vector<std::vector<std::int16_t>> grid;
};
BOOST_DESCRIBE_STRUCT(Order, (), (customer, lines, tags, gift, created, weight, extra, grid))

[[noreturn]] void fail(const char* what, std::string_view detail) {
    std::fprintf(stderr, "fuzz: %s: %.*s\n", what, static_cast<int>(detail.size()), detail.data());
    std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    boost::json::value value;
    try {
        value = flamecpp::detail::parse_json(text);
    } catch (const flamecpp::detail::JsonError&) {
        return 0;
    }

    std::string again = boost::json::serialize(value);
    try {
        if (flamecpp::detail::parse_json(again) != value) {
            fail("the value changed in a round trip", again);
        }
    } catch (const flamecpp::detail::JsonError& e) {
        fail("Boost.JSON wrote what simdjson cannot read back", e.what());
    }

    try {
        Order order = flamecpp::detail::bind_json<Order>(value, "");
        (void)order;
    } catch (const flamecpp::HTTPException& e) {
        if (e.status() != flamecpp::Status::bad_request) {
            fail("binding failed with a status other than 400", e.detail());
        }
    }
    try {
        auto lines = flamecpp::detail::bind_json<std::vector<Line>>(value, "");
        (void)lines;
    } catch (const flamecpp::HTTPException& e) {
        if (e.status() != flamecpp::Status::bad_request) {
            fail("binding failed with a status other than 400", e.detail());
        }
    }
    return 0;
}
