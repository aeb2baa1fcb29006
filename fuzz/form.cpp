// The urlencoded form decoder: a failed decode leaves the fields untouched, a decoded form
// never holds more text than the body, a body without escapes or '+' decodes to pieces of
// itself, and every field is found by its name.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include <flamecpp/forms.hpp>

namespace {

[[noreturn]] void fail(const char* what) {
    std::fprintf(stderr, "fuzz: %s\n", what);
    std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view body(reinterpret_cast<const char*>(data), size);
    std::vector<flamecpp::FormData::Field> fields{{"kept", "as is"}};
    const bool ok = flamecpp::detail::decode_urlencoded(body, fields);
    if (!ok && fields.size() != 1) {
        fail("a failed decode changed the fields");
    }
    std::size_t text = 0;
    for (std::size_t i = 1; i < fields.size(); ++i) {
        text += fields[i].first.size() + fields[i].second.size();
    }
    if (text > body.size()) {
        fail("the fields hold more text than the body");
    }
    if (ok && body.find_first_of("%+") == std::string_view::npos) {
        // Nothing to decode: every name and value is a piece of the body, as it was.
        for (std::size_t i = 1; i < fields.size(); ++i) {
            if (body.find(fields[i].first) == std::string_view::npos ||
                body.find(fields[i].second) == std::string_view::npos) {
                fail("text without escapes changed when decoded");
            }
        }
    }
    const flamecpp::FormData form(
        std::vector<flamecpp::FormData::Field>(fields.begin() + 1, fields.end()));
    for (const auto& [name, value] : form.fields()) {
        if (!form.get(name) || form.get_all(name).empty()) {
            fail("a field the form holds is not found by name");
        }
    }
    return 0;
}
