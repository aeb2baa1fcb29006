// The app the session targets fuzz: every kind of route and injected parameter, so the fuzzer
// reaches the router's convertors, query, header and cookie conversion, JSON body binding,
// endpoints, streaming, redirects and the three WebSocket encodings. No handler throws except
// HTTPException, so any 500 or 1011 is a finding.
#pragma once

#include <flamecpp/app.hpp>

namespace flamecpp::fuzz {

void build_fuzz_app(App& app);

/// The fuzz app, built on first use and kept for the process (one per fuzz target).
App& fuzz_app();

}  // namespace flamecpp::fuzz
