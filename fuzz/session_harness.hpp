// Feeds bytes to the production HTTP session (parser, router, dispatcher, WebSocket upgrade)
// without a network: one end of a socketpair is the server's socket, the harness writes the
// input to the other end, half-closes it, and collects everything the server writes back.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <flamecpp/app.hpp>

namespace flamecpp::detail {
class Worker;
}

namespace flamecpp::fuzz {

class SessionHarness {
public:
    /// Checks the app's components like Server does. A handler exception (anything the server
    /// would answer with 500 or close 1011) aborts: the fuzz apps never throw on purpose, so
    /// one is a bug the fuzzer found.
    explicit SessionHarness(App& app);
    ~SessionHarness();

    /// Runs one connection: `input` is sent, then the client half-closes. Returns the bytes
    /// the server wrote before closing. Aborts if the session outlives the client's EOF by
    /// 10 seconds (a hang). With `after_head`, the client sends `input`, waits for the head
    /// of the first response (a WebSocket client waits for its 101), then sends `after_head`.
    std::string exchange(std::string_view input, std::string_view after_head = {});

    /// From now on connections speak TLS with this certificate and key (PEM files), as a
    /// server started with --tls-cert and --tls-key.
    void use_tls(const TlsCertificate& certificate);

private:
    ServerOptions options_;
    std::unique_ptr<detail::Worker> worker_;
};

/// Aborts unless the first `max_responses` responses in `out` are well-formed HTTP/1.x
/// (Beast's parser is the judge) with a status below 500, or 501. `head_first` skips the body
/// of the first one (the answer to a HEAD). A 101 Switching Protocols ends the check:
/// WebSocket frames follow it.
void check_responses(std::string_view out, bool head_first, std::size_t max_responses);

}  // namespace flamecpp::fuzz
