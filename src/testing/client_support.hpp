#pragma once

// What the test client's parts share (test_client.cpp, websocket_session.cpp, results.cpp):
// header lookups, excerpts for error messages, targets, one asynchronous operation run for a
// bounded time, and where the server's handler errors go until the test raises them.

#include <algorithm>
#include <chrono>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/json/value.hpp>

#include <flamecpp/testing.hpp>

#include "text/ascii.hpp"

namespace flamecpp::testing::client {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

/// The first header named `name` (ASCII case-insensitive), if any.
std::optional<std::string> find_header(const Headers& headers, std::string_view name);

// A printable excerpt of a body, for error messages.
std::string preview(std::string_view bytes);

// `text` as JSON; throws std::runtime_error naming `what` and quoting the text when it is not.
boost::json::value parse_json(std::string_view text, std::string_view what);

// "500 ms", for messages.
std::string describe(milliseconds timeout);

// The time left until `deadline`, at least 1 ms.
milliseconds left_until(Clock::time_point deadline);

// The body of a form: urlencoded, or multipart/form-data when there are files; sets
// `content_type` to match.
std::string encode_form(const std::vector<std::pair<std::string, std::string>>& fields,
                        const std::vector<FormFile>& files,
                        std::string& content_type);

// An origin-form target from a path (which may hold a query) and extra query parameters.
std::string make_target(std::string_view path, const QueryParams& query);

// The path of a target, without its query.
std::string_view path_of(std::string_view target);

// 301, 302, 303, 307 or 308.
bool is_redirect(int status);

// A Beast message's fields, in wire order.
template <class Fields>
Headers headers_of(const Fields& fields) {
    Headers out;
    for (const auto& field : fields) {
        out.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    return out;
}

// Runs one asynchronous operation on `io` for at most `timeout` and returns its error code, or
// nullopt on timeout, after `abort` was called and the aborted operation has completed.
template <class Start, class Abort>
std::optional<error_code> run_for(asio::io_context& io,
                                  milliseconds timeout,
                                  Start&& start,
                                  Abort&& abort) {
    // Shared: the completion may run after this frame is gone if the io_context outlives it.
    auto result = std::make_shared<std::optional<error_code>>();
    std::forward<Start>(start)([result](error_code ec, auto&&...) { *result = ec; });
    io.restart();
    io.run_for(timeout);
    if (*result) {
        return *result;
    }
    std::forward<Abort>(abort)();
    io.restart();
    io.run();  // closing the socket completes the aborted operation at once
    return std::nullopt;
}

// Adds the caller's headers: the first of each name replaces the client's own field.
template <class Message>
void apply_headers(Message& message, const Headers& headers) {
    std::vector<std::string_view> seen;
    for (const auto& [name, value] : headers) {
        std::string_view key = name;  // clang 14 cannot capture a structured binding
        bool first = std::none_of(seen.begin(), seen.end(), [key](std::string_view s) {
            return ::flamecpp::detail::iequals(s, key);
        });
        if (first) {
            message.erase(name);
            seen.push_back(name);
        }
        message.insert(name, value);
    }
}

// Handler exceptions, reported by the server's threads, collected by the test's.
struct ServerErrors {
    std::mutex mutex;
    std::vector<std::exception_ptr> errors;

    void push(std::exception_ptr e) {
        std::lock_guard lock(mutex);
        errors.push_back(std::move(e));
    }
    // The first error not raised yet; the others are dropped (they are logged).
    std::exception_ptr take() {
        std::lock_guard lock(mutex);
        if (errors.empty()) {
            return nullptr;
        }
        std::exception_ptr first = errors.front();
        errors.clear();
        return first;
    }
};

// What a session and the client share: where errors go and whether to raise them.
struct ErrorPolicy {
    std::shared_ptr<ServerErrors> errors;
    bool raise = true;

    void raise_pending() const {
        if (!raise) {
            return;
        }
        if (auto e = errors->take()) {
            std::rethrow_exception(e);
        }
    }
};

}  // namespace flamecpp::testing::client
