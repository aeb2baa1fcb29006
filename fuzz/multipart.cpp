// The multipart parser: fed the same body whole and in pieces (cut where the input's first
// bytes say), it reports the same parts with the same bytes and reaches the same verdict;
// a part's bytes never outgrow the body, and a failed parser takes nothing more.
#include "http/multipart.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

[[noreturn]] void fail(const char* what) {
    std::fprintf(stderr, "fuzz: %s\n", what);
    std::abort();
}

struct Part {
    std::string name;
    std::optional<std::string> filename;
    std::string content_type;
    std::string data;
    bool operator==(const Part&) const = default;
};

class Collector final : public flamecpp::detail::MultipartSink {
public:
    void begin_part(flamecpp::detail::MultipartPart& part) override {
        if (open) {
            fail("a part began inside another");
        }
        open = true;
        parts.push_back({part.name, part.filename, part.content_type, {}});
    }
    void part_data(std::string_view bytes) override {
        if (!open || bytes.empty()) {
            fail("data outside a part, or empty data");
        }
        parts.back().data.append(bytes);
    }
    void end_part() override {
        if (!open) {
            fail("a part ended that never began");
        }
        open = false;
    }

    std::vector<Part> parts;
    bool open = false;
};

struct Outcome {
    std::vector<Part> parts;
    bool ok;
    std::string error;
};

Outcome parse(std::string_view body, const std::vector<std::size_t>& cuts) {
    flamecpp::detail::MultipartParser parser("b0undary");
    Collector sink;
    bool ok = true;
    std::size_t at = 0;
    for (std::size_t cut : cuts) {
        const std::size_t end = std::min(body.size(), at + cut);
        ok = parser.feed(body.substr(at, end - at), sink) && ok;
        at = end;
    }
    ok = parser.feed(body.substr(at), sink) && ok;
    ok = ok && parser.finish();
    if (!ok && parser.feed("--b0undary--", sink)) {
        fail("a failed parser took more bytes");
    }
    return {std::move(sink.parts), ok, std::string(parser.error())};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 4) {
        return 0;
    }
    // Four bytes of piece sizes, then the body.
    std::vector<std::size_t> cuts(data, data + 4);
    const std::string_view body(reinterpret_cast<const char*>(data) + 4, size - 4);
    const Outcome whole = parse(body, {});
    const Outcome pieces = parse(body, cuts);
    if (whole.ok != pieces.ok || whole.error != pieces.error) {
        fail("the verdict depends on how the body was cut");
    }
    if (whole.parts != pieces.parts) {
        fail("the parts depend on how the body was cut");
    }
    std::size_t bytes = 0;
    for (const Part& part : whole.parts) {
        bytes += part.data.size();
    }
    if (bytes > body.size()) {
        fail("the parts hold more bytes than the body");
    }
    return 0;
}
