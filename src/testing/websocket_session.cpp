// WebSocketTestSession: sends, receives and the close handshake, each bounded in time.
#include "testing/websocket_session.hpp"

#include <algorithm>
#include <stdexcept>

#include <boost/json/serialize.hpp>

#include <flamecpp/testing.hpp>

namespace flamecpp::testing {

WebSocketTestSession::WebSocketTestSession(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

WebSocketTestSession::~WebSocketTestSession() {
    if (impl_ && impl_->open) {
        // A polite goodbye, briefly: the server then runs its on_disconnect with 1000.
        try {
            websocket::close_reason reason(websocket::close_code::normal);
            run_for(
                impl_->io, std::min(impl_->timeout, milliseconds(1000)),
                [&](auto handler) { impl_->ws.async_close(reason, std::move(handler)); },
                [this] { impl_->shut(); });
        } catch (const std::exception&) {  // the goodbye is a courtesy; the socket closes anyway
        }
        impl_->shut();
    }
}

WebSocketTestSession::WebSocketTestSession(WebSocketTestSession&&) noexcept = default;
WebSocketTestSession& WebSocketTestSession::operator=(WebSocketTestSession&&) noexcept = default;

const std::string& WebSocketTestSession::subprotocol() const noexcept { return impl_->subprotocol; }
const Headers& WebSocketTestSession::headers() const noexcept { return impl_->headers; }
std::optional<std::string> WebSocketTestSession::header(std::string_view name) const {
    return find_header(impl_->headers, name);
}

void WebSocketTestSession::send_text(std::string_view text) { impl_->send(text, false); }
void WebSocketTestSession::send_bytes(std::string_view bytes) { impl_->send(bytes, true); }
void WebSocketTestSession::send_bytes(std::span<const std::byte> bytes) {
    impl_->send(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), true);
}
void WebSocketTestSession::send_json(const boost::json::value& value) {
    impl_->send(boost::json::serialize(value), false);
}

WebSocketMessage WebSocketTestSession::receive(std::optional<milliseconds> timeout) {
    return impl_->receive(timeout);
}

std::string WebSocketTestSession::receive_text(std::optional<milliseconds> timeout) {
    auto message = impl_->receive(timeout);
    if (message.binary) {
        throw std::runtime_error("WebSocket " + impl_->target +
                                 ": expected a text message, got a binary one of " +
                                 std::to_string(message.data.size()) + " bytes");
    }
    return std::move(message.data);
}

std::string WebSocketTestSession::receive_bytes(std::optional<milliseconds> timeout) {
    auto message = impl_->receive(timeout);
    if (!message.binary) {
        throw std::runtime_error("WebSocket " + impl_->target +
                                 ": expected a binary message, got text \"" +
                                 preview(message.data) + "\"");
    }
    return std::move(message.data);
}

boost::json::value WebSocketTestSession::receive_json(std::optional<milliseconds> timeout) {
    auto message = impl_->receive(timeout);
    return parse_json(message.data, "the message received on " + impl_->target);
}

int WebSocketTestSession::close(int code, std::string_view reason) {
    Impl& d = *impl_;
    d.require_open("close");
    websocket::close_reason ours(static_cast<websocket::close_code>(code));
    ours.reason.assign(reason.data(), std::min<std::size_t>(reason.size(), 123));
    error_code ec = d.run(d.timeout, "the close handshake",
                          [&](auto handler) { d.ws.async_close(ours, std::move(handler)); });
    if (ec) {
        d.ended(ec);
    }
    const websocket::close_reason& theirs = d.ws.reason();
    d.close_code =
        theirs.code == websocket::close_code::none ? 1005 : static_cast<int>(theirs.code);
    d.close_reason.assign(theirs.reason.data(), theirs.reason.size());
    d.shut();
    d.policy.raise_pending();
    return *d.close_code;
}

bool WebSocketTestSession::is_open() const noexcept { return impl_ && impl_->open; }
std::optional<int> WebSocketTestSession::close_code() const noexcept { return impl_->close_code; }

}  // namespace flamecpp::testing
