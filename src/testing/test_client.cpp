// TestClient: the app on a real Server (127.0.0.1, port 0, its own threads) and a blocking
// client whose every operation runs on a private io_context for a bounded time.
#include <algorithm>
#include <cstdio>
#include <limits>
#include <mutex>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address_v4.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/error.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>

#include <flamecpp/testing.hpp>

#include "text/ascii.hpp"

namespace flamecpp::testing {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace urls = boost::urls;
using asio::ip::tcp;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

std::optional<std::string> find_header(const Headers& headers, std::string_view name) {
    for (const auto& [key, value] : headers) {
        if (::flamecpp::detail::iequals(key, name)) {
            return value;
        }
    }
    return std::nullopt;
}

template <class Fields>
Headers headers_of(const Fields& fields) {
    Headers out;
    for (const auto& field : fields) {
        out.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    return out;
}

// A printable excerpt of a body, for error messages.
std::string preview(std::string_view bytes) {
    constexpr std::size_t max = 200;
    std::string out;
    for (char c : bytes.substr(0, max)) {
        out += (c >= 0x20 && c < 0x7f) ? c : '.';
    }
    if (bytes.size() > max) {
        out += "...";
    }
    return out;
}

boost::json::value parse_json(std::string_view text, std::string_view what) {
    boost::system::error_code ec;
    boost::json::value value = boost::json::parse(text, ec);
    if (ec) {
        throw std::runtime_error(std::string(what) + " is not JSON (" + ec.message() + "): \"" +
                                 preview(text) + "\"");
    }
    return value;
}

std::string describe(milliseconds timeout) { return std::to_string(timeout.count()) + " ms"; }

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

milliseconds left_until(Clock::time_point deadline) {
    return std::max(milliseconds(1),
                    std::chrono::duration_cast<milliseconds>(deadline - Clock::now()));
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

// An origin-form target from a path (which may hold a query) and extra query parameters.
std::string make_target(std::string_view path, const QueryParams& query) {
    if (path.empty() || path.front() != '/') {
        throw std::invalid_argument("TestClient: the path must start with '/': \"" +
                                    std::string(path) + "\"");
    }
    urls::url url;
    if (auto parsed = urls::parse_origin_form(path)) {
        url = *parsed;
    } else {
        // Not a valid target as written (a space, say): encode what needs encoding.
        auto question = path.find('?');
        url.set_path(path.substr(0, question));
        if (question != std::string_view::npos) {
            url.set_query(path.substr(question + 1));
        }
    }
    for (const auto& [name, value] : query) {
        url.params().append({name, value});
    }
    return std::string(url.encoded_target());
}

std::string_view path_of(std::string_view target) { return target.substr(0, target.find('?')); }

bool is_redirect(int status) {
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
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

}  // namespace

// ---------------------------------------------------------------------------------------------
// Results

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

// ---------------------------------------------------------------------------------------------
// WebSocketTestSession

struct WebSocketTestSession::Impl {
    asio::io_context io{1};
    websocket::stream<tcp::socket> ws{io};
    beast::flat_buffer buffer;
    std::string target;
    std::string subprotocol;
    Headers headers;
    milliseconds timeout{};
    ErrorPolicy policy;
    bool open = false;
    std::optional<int> close_code;
    std::string close_reason;

    void shut() noexcept {
        error_code ignored;
        ws.next_layer().shutdown(tcp::socket::shutdown_both, ignored);
        ws.next_layer().close(ignored);
        open = false;
    }

    template <class Start>
    error_code run(milliseconds limit, std::string_view what, Start&& start) {
        auto ec = run_for(io, limit, std::forward<Start>(start), [this] { shut(); });
        if (!ec) {
            policy.raise_pending();
            throw TimeoutError("WebSocket " + target + ": " + std::string(what) +
                               " took longer than " + describe(limit));
        }
        return *ec;
    }

    // The connection ended: remember how, and raise the server's error or WebSocketClosed.
    [[noreturn]] void ended(error_code ec) {
        if (ec == websocket::error::closed) {
            const websocket::close_reason& reason = ws.reason();
            close_code =
                reason.code == websocket::close_code::none ? 1005 : static_cast<int>(reason.code);
            close_reason.assign(reason.reason.data(), reason.reason.size());
        } else {
            close_code = 1006;
            close_reason = "the TCP connection ended without a close frame: " + ec.message();
        }
        shut();
        policy.raise_pending();
        throw WebSocketClosed(*close_code, close_reason);
    }

    // Server errors are raised when the connection ends (a 1011 close follows them), so that
    // the messages sent before the failure are received first, in order.
    void require_open(std::string_view what) {
        if (!open) {
            if (close_code) {
                throw WebSocketClosed(*close_code, close_reason);
            }
            throw std::logic_error("WebSocket " + target + ": " + std::string(what) +
                                   " after the session ended");
        }
    }

    void send(std::string_view payload, bool binary) {
        require_open(binary ? "send_bytes" : "send_text");
        ws.binary(binary);
        error_code ec = run(timeout, "sending a message", [&](auto handler) {
            ws.async_write(asio::buffer(payload.data(), payload.size()), std::move(handler));
        });
        if (ec) {
            ended(ec);
        }
    }

    WebSocketMessage receive(std::optional<milliseconds> limit) {
        require_open("receive");
        buffer.clear();
        error_code ec = run(limit.value_or(timeout), "waiting for a message",
                            [&](auto handler) { ws.async_read(buffer, std::move(handler)); });
        if (ec) {
            ended(ec);
        }
        return {!ws.got_text(), beast::buffers_to_string(buffer.data())};
    }
};

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

// ---------------------------------------------------------------------------------------------
// TestClient

struct TestClient::Impl {
    std::optional<App> owned;
    App* app = nullptr;
    ClientOptions options;
    ErrorPolicy policy{std::make_shared<ServerErrors>(), true};
    std::optional<Server> server;
    CookieJar jar;

    // The keep-alive connection requests go over.
    asio::io_context io{1};
    tcp::socket socket{io};
    beast::flat_buffer buffer;
    bool reused = false;  // a request went over it already (it may have been closed since)

    void start() {
        policy.raise = options.raise_server_exceptions;
        ServerOptions server_options;
        server_options.host = "127.0.0.1";
        server_options.port = 0;
        server_options.threads = options.threads;
        server_options.log_level = options.log_level;
        server_options.handle_signals = false;
        server_options.print_listening = false;
        if (options.raise_server_exceptions) {
            server_options.on_handler_error = [errors = policy.errors](std::exception_ptr e) {
                errors->push(std::move(e));
            };
        }
        server.emplace(*app, std::move(server_options));
    }

    void require_running() const {
        if (!server) {
            throw std::logic_error("TestClient: called after close()");
        }
    }

    void disconnect() noexcept {
        error_code ignored;
        socket.shutdown(tcp::socket::shutdown_both, ignored);
        socket.close(ignored);
        buffer.clear();
        reused = false;
    }

    tcp::endpoint endpoint() const { return {asio::ip::address_v4::loopback(), server->port()}; }

    void connect(Clock::time_point deadline, const std::string& what) {
        auto ec = run_for(
            io, left_until(deadline),
            [&](auto handler) { socket.async_connect(endpoint(), std::move(handler)); },
            [this] { disconnect(); });
        if (!ec) {
            throw TimeoutError(what + ": connecting took too long");
        }
        if (*ec) {
            throw std::runtime_error(what +
                                     ": cannot connect to the test server: " + ec->message());
        }
        error_code ignored;
        socket.set_option(tcp::no_delay(true), ignored);
    }

    // One request and its response, over the kept-alive connection (or a new one).
    TestResponse exchange(http::request<http::string_body>& request,
                          bool head,
                          milliseconds timeout,
                          const std::string& what) {
        const auto deadline = Clock::now() + timeout;
        for (int attempt = 0;; ++attempt) {
            if (!socket.is_open()) {
                connect(deadline, what);
            }
            const bool was_reused = reused;
            reused = true;
            http::response_parser<http::string_body> parser;
            parser.body_limit(std::numeric_limits<std::uint64_t>::max());
            parser.skip(head);
            auto on_timeout = [&] {
                disconnect();
                policy.raise_pending();
                throw TimeoutError(what + ": no complete response within " + describe(timeout));
            };
            auto ec = run_for(
                io, left_until(deadline),
                [&](auto handler) { http::async_write(socket, request, std::move(handler)); },
                [this] { disconnect(); });
            if (!ec) {
                on_timeout();
            }
            if (!*ec) {
                ec = run_for(
                    io, left_until(deadline),
                    [&](auto handler) {
                        http::async_read(socket, buffer, parser, std::move(handler));
                    },
                    [this] { disconnect(); });
                if (!ec) {
                    on_timeout();
                }
            }
            if (*ec) {
                disconnect();
                // The server may have closed the idle connection just before we used it.
                if (was_reused && attempt == 0 && !parser.got_some()) {
                    continue;
                }
                policy.raise_pending();
                throw std::runtime_error(what +
                                         ": the connection failed before a complete "
                                         "response: " +
                                         ec->message());
            }
            auto response = parser.release();
            if (!response.keep_alive()) {
                disconnect();
            }
            TestResponse out;
            out.status = static_cast<int>(response.result_int());
            out.reason = std::string(response.reason());
            out.headers = headers_of(response);
            out.body = std::move(response.body());
            return out;
        }
    }

    TestResponse call(std::string_view method, std::string_view path, const RequestOptions& o) {
        require_running();
        policy.raise_pending();
        if (o.body && o.json.value) {
            throw std::invalid_argument("TestClient: a request has a body or a json, not both");
        }
        std::string verb(method);
        std::string target = make_target(path, o.query);
        std::optional<std::string> body = o.body;
        std::string content_type = "application/octet-stream";
        if (o.json.value) {
            body = boost::json::serialize(*o.json.value);
            content_type = "application/json";
        }
        const bool follow = o.follow_redirects.value_or(options.follow_redirects);
        const milliseconds timeout = o.timeout.value_or(options.timeout);

        for (int hop = 0;; ++hop) {
            http::request<http::string_body> request;
            request.method_string(verb);
            request.target(target);
            request.version(11);
            request.set(http::field::host, options.host);
            request.set(http::field::user_agent, "flamecpp-testclient");
            request.set(http::field::accept, "*/*");
            if (auto cookie = jar.header_for(path_of(target)); !cookie.empty()) {
                request.set(http::field::cookie, cookie);
            }
            if (body) {
                request.set(http::field::content_type, content_type);
                request.body() = *body;
            }
            apply_headers(request, options.headers);
            apply_headers(request, o.headers);
            request.prepare_payload();

            const bool head = ::flamecpp::detail::iequals(verb, "HEAD");
            std::string what = verb;
            what += ' ';
            what += target;
            TestResponse response = exchange(request, head, timeout, what);
            response.url = target;
            response.redirects = hop;
            for (const auto& value : response.header_values("Set-Cookie")) {
                jar.store(value, path_of(target), options.host);
            }
            policy.raise_pending();

            auto location = response.header("Location");
            if (!follow || !is_redirect(response.status) || !location) {
                return response;
            }
            if (hop == 20) {
                throw std::runtime_error(verb + " " + std::string(path) +
                                         ": more than 20 redirects, the last to " + *location);
            }
            auto next = next_hop(target, *location);
            if (!next) {
                return response;  // out of the app: nothing to follow it to
            }
            target = std::move(*next);
            // RFC 9110 15.4: 303 asks for a GET; 301 and 302 after a POST get one in practice.
            if ((response.status == 303 && !head) ||
                ((response.status == 301 || response.status == 302) &&
                 ::flamecpp::detail::iequals(verb, "POST"))) {
                verb = "GET";
                body.reset();
            }
        }
    }

    // The target a Location sends us to, when it stays within the app.
    std::optional<std::string> next_hop(const std::string& target, std::string_view location) {
        auto reference = urls::parse_uri_reference(location);
        if (!reference) {
            throw std::runtime_error("redirect to an invalid Location: \"" + std::string(location) +
                                     "\"");
        }
        urls::url base = urls::parse_uri("http://" + options.host + target).value();
        urls::url resolved;
        if (!urls::resolve(base, *reference, resolved)) {
            return std::nullopt;
        }
        if (resolved.scheme() != "http" || resolved.encoded_authority() != options.host) {
            return std::nullopt;
        }
        return std::string(resolved.encoded_target());
    }

    WebSocketTestSession websocket(std::string_view path,
                                   const std::vector<std::string>& subprotocols,
                                   Headers headers) {
        require_running();
        policy.raise_pending();
        auto session = std::make_unique<WebSocketTestSession::Impl>();
        WebSocketTestSession::Impl& d = *session;
        d.target = make_target(path, {});
        d.timeout = options.timeout;
        d.policy = policy;
        const auto deadline = Clock::now() + options.timeout;

        auto ec = d.run(options.timeout, "connecting", [&](auto handler) {
            d.ws.next_layer().async_connect(endpoint(), std::move(handler));
        });
        if (ec) {
            throw std::runtime_error("WebSocket " + d.target +
                                     ": cannot connect to the test server: " + ec.message());
        }
        error_code ignored;
        d.ws.next_layer().set_option(tcp::no_delay(true), ignored);

        std::string offered;
        for (const auto& p : subprotocols) {
            offered += (offered.empty() ? "" : ", ") + p;
        }
        Headers all = options.headers;
        all.insert(all.end(), headers.begin(), headers.end());
        std::string cookie = jar.header_for(path_of(d.target));
        d.ws.set_option(websocket::stream_base::decorator(
            [offered, cookie, all = std::move(all)](websocket::request_type& req) {
                req.set(http::field::user_agent, "flamecpp-testclient");
                if (!offered.empty()) {
                    req.set(http::field::sec_websocket_protocol, offered);
                }
                if (!cookie.empty()) {
                    req.set(http::field::cookie, cookie);
                }
                apply_headers(req, all);
            }));

        websocket::response_type response;
        response.result(0u);  // stays 0 unless an answer was parsed
        ec = d.run(left_until(deadline), "the handshake", [&](auto handler) {
            d.ws.async_handshake(response, options.host, d.target, std::move(handler));
        });
        for (const auto& field : response) {
            if (field.name() == http::field::set_cookie) {
                jar.store(field.value(), path_of(d.target), options.host);
            }
        }
        if (ec) {
            d.shut();
            policy.raise_pending();
            if (response.result_int() != 0 && response.result_int() != 101) {
                throw WebSocketRejected(static_cast<int>(response.result_int()),
                                        headers_of(response), response.body());
            }
            throw std::runtime_error("WebSocket " + d.target +
                                     ": the handshake failed: " + ec.message());
        }
        d.open = true;
        d.headers = headers_of(response);
        d.subprotocol = find_header(d.headers, "Sec-WebSocket-Protocol").value_or("");
        return WebSocketTestSession(std::move(session));
    }

    void stop() {
        if (!server) {
            return;
        }
        disconnect();
        server->stop();
        server->wait();
        server.reset();
    }
};

TestClient::TestClient(App& app, ClientOptions options) : impl_(std::make_unique<Impl>()) {
    impl_->app = &app;
    impl_->options = std::move(options);
    impl_->start();
}

TestClient::TestClient(App&& app, ClientOptions options) : impl_(std::make_unique<Impl>()) {
    impl_->owned.emplace(std::move(app));
    impl_->app = &*impl_->owned;
    impl_->options = std::move(options);
    impl_->start();
}

TestClient::~TestClient() {
    impl_->stop();
    if (auto e = impl_->policy.errors->take(); e && impl_->policy.raise) {
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& error) {
            std::fprintf(stderr,
                         "flamecpp::testing: a handler threw after the test's last call: %s\n",
                         error.what());
        } catch (...) {
            std::fprintf(stderr,
                         "flamecpp::testing: a handler threw a non-standard exception after the "
                         "test's last call\n");
        }
    }
}

TestResponse TestClient::get(std::string_view path, const RequestOptions& options) {
    return impl_->call("GET", path, options);
}
TestResponse TestClient::head(std::string_view path, const RequestOptions& options) {
    return impl_->call("HEAD", path, options);
}
TestResponse TestClient::options(std::string_view path, const RequestOptions& options) {
    return impl_->call("OPTIONS", path, options);
}
TestResponse TestClient::post(std::string_view path, const RequestOptions& options) {
    return impl_->call("POST", path, options);
}
TestResponse TestClient::put(std::string_view path, const RequestOptions& options) {
    return impl_->call("PUT", path, options);
}
TestResponse TestClient::patch(std::string_view path, const RequestOptions& options) {
    return impl_->call("PATCH", path, options);
}
TestResponse TestClient::delete_(std::string_view path, const RequestOptions& options) {
    return impl_->call("DELETE", path, options);
}
TestResponse TestClient::request(std::string_view method,
                                 std::string_view path,
                                 const RequestOptions& options) {
    return impl_->call(method, path, options);
}

WebSocketTestSession TestClient::websocket_connect(std::string_view path,
                                                   const std::vector<std::string>& subprotocols,
                                                   Headers headers) {
    return impl_->websocket(path, subprotocols, std::move(headers));
}

CookieJar& TestClient::cookies() noexcept { return impl_->jar; }
const CookieJar& TestClient::cookies() const noexcept { return impl_->jar; }

std::uint16_t TestClient::port() const noexcept {
    return impl_->server ? impl_->server->port() : 0;
}

App& TestClient::app() noexcept { return *impl_->app; }

void TestClient::close() {
    impl_->stop();
    impl_->policy.raise_pending();
}

// ---------------------------------------------------------------------------------------------
// run()

void detail::run_task(Task<void> task, std::chrono::milliseconds timeout) {
    asio::io_context io{1};
    std::exception_ptr failure;
    bool done = false;
    asio::co_spawn(io, std::move(task), [&](std::exception_ptr e) {
        failure = std::move(e);
        done = true;
    });
    io.run_for(timeout);
    if (!done) {
        throw TimeoutError("flamecpp::testing::run: the task did not finish within " +
                           describe(timeout));
    }
    if (failure) {
        std::rethrow_exception(failure);
    }
}

}  // namespace flamecpp::testing
