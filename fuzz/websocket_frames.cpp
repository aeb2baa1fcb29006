// WebSocket frames from the fuzzer after a valid upgrade handshake: Beast's frame parser,
// masking, fragmentation, control frames and close codes, then our message limits, the three
// encodings and the handlers. The first input byte picks the route; the rest is the frame
// stream. The server must answer 101 and end the session once the client is gone.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "fuzz_app.hpp"
#include "session_harness.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static flamecpp::fuzz::SessionHarness harness(flamecpp::fuzz::fuzz_app());
    static constexpr std::array<std::string_view, 4> paths = {"/ws", "/ws/json", "/ws/text",
                                                              "/ws/bytes"};
    if (size == 0) {
        return 0;
    }
    std::string input = "GET ";
    input += paths[data[0] % paths.size()];
    input +=
        " HTTP/1.1\r\nHost: fuzz\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    std::string_view frames(reinterpret_cast<const char*>(data) + 1, size - 1);

    std::string out = harness.exchange(input, frames);
    if (!out.starts_with("HTTP/1.1 101 ")) {
        std::fprintf(stderr, "fuzz: the upgrade was not accepted:\n%.*s\n",
                     static_cast<int>(std::min<std::size_t>(out.size(), 1024)), out.data());
        std::abort();
    }
    return 0;
}
