#pragma once

// Test-only: options for a server inside a test process.

#include <flamecpp/app.hpp>

namespace flamecpp::test {

// Port 0 (a free one), `threads` threads, no signal handling, no listening line, no logs.
inline ServerOptions quiet_options(unsigned threads) {
    ServerOptions o;
    o.port = 0;
    o.threads = threads;
    o.handle_signals = false;
    o.print_listening = false;
    o.log_level = LogLevel::off;
    return o;
}

}  // namespace flamecpp::test
