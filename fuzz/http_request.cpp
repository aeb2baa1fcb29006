// Bytes in through the real HTTP session: Beast's parser with our framing checks, the router,
// the injectors and the handlers, then the response writer. The output must be well-formed
// HTTP with no 5xx (but 501), and the session must end once the client is gone.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_app.hpp"
#include "session_harness.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static flamecpp::fuzz::SessionHarness harness(flamecpp::fuzz::fuzz_app());

    std::string_view input(reinterpret_cast<const char*>(data), size);
    std::string out = harness.exchange(input);
    // A HEAD answer has headers that announce a body it does not carry, so once a HEAD is
    // in the input, responses cannot be delimited from outside: then only the head of the
    // first response is judged.
    const bool has_head = input.find("HEAD") != std::string_view::npos;
    flamecpp::fuzz::check_responses(out, has_head, has_head ? 1 : SIZE_MAX);
    return 0;
}
