// The results of the test client's calls: TestResponse, and the WebSocket errors.
#include <flamecpp/testing.hpp>

#include "testing/client_support.hpp"

namespace flamecpp::testing {

using client::find_header;
using client::parse_json;
using client::preview;

WebSocketClosed::WebSocketClosed(int code, std::string reason)
    : std::runtime_error("the WebSocket was closed with code " + std::to_string(code) +
                         (reason.empty() ? std::string() : " (" + reason + ")")),
      code_(code),
      reason_(std::move(reason)) {}

WebSocketRejected::WebSocketRejected(int status, Headers headers, std::string body)
    : std::runtime_error("the server answered the WebSocket upgrade with HTTP " +
                         std::to_string(status) +
                         (body.empty() ? std::string() : ": \"" + preview(body) + "\"")),
      status_(status),
      headers_(std::move(headers)),
      body_(std::move(body)) {}

std::optional<std::string> WebSocketRejected::header(std::string_view name) const {
    return find_header(headers_, name);
}

std::optional<std::string> TestResponse::header(std::string_view name) const {
    return find_header(headers, name);
}

std::vector<std::string> TestResponse::header_values(std::string_view name) const {
    std::vector<std::string> out;
    for (const auto& [key, value] : headers) {
        if (::flamecpp::detail::iequals(key, name)) {
            out.push_back(value);
        }
    }
    return out;
}

struct TestResponse::ParsedJson {
    std::string text;  ///< the body it was parsed from
    boost::json::value value;
};

const boost::json::value& TestResponse::json() const& {
    if (!parsed_json_ || parsed_json_->text != body) {
        parsed_json_ = std::make_shared<const ParsedJson>(ParsedJson{
            body,
            parse_json(body, "the body of the " + std::to_string(status) + " response to " + url)});
    }
    return parsed_json_->value;
}

boost::json::value TestResponse::json() && {
    const boost::json::value& value = json();  // `*this` is an lvalue here
    return value;
}

}  // namespace flamecpp::testing
