// TestClient: the app on a real Server (127.0.0.1, port 0, its own threads) and a blocking
// client whose every operation runs on a private io_context for a bounded time.
#include <algorithm>
#include <cstdio>
#include <limits>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/address_v4.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>

#include <flamecpp/testing.hpp>

#include "testing/client_stream.hpp"
#include "testing/websocket_session.hpp"

namespace flamecpp::testing {

namespace http = beast::http;
namespace urls = boost::urls;

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
    ClientStream socket{io};
    /// With ClientOptions::tls: trusts its CA file.
    std::optional<asio::ssl::context> tls;
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
        if (!options.tls.certificate.cert_file.empty()) {
            server_options.tls.certificate = options.tls.certificate;
            tls.emplace(asio::ssl::context::tls_client);
            if (options.tls.ca_file.empty()) {
                tls->set_default_verify_paths();
            } else {
                tls->load_verify_file(options.tls.ca_file);  // throws naming the problem
            }
        }
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
        socket.close();
        buffer.clear();
        reused = false;
    }

    tcp::endpoint endpoint() const { return {asio::ip::address_v4::loopback(), server->port()}; }

    void connect(Clock::time_point deadline, const std::string& what) {
        connect_stream(socket, deadline, what, [this] { disconnect(); });
    }

    /// Connects `stream` to the server, with the TLS handshake when the app is served over
    /// TLS; `cut` ends it when the deadline passes.
    template <class Cut>
    void connect_stream(ClientStream& stream,
                        Clock::time_point deadline,
                        const std::string& what,
                        Cut cut) {
        stream.reset();  // the last connection's operations have all completed
        auto ec = run_for(
            io_of(stream), left_until(deadline),
            [&](auto handler) { stream.socket().async_connect(endpoint(), std::move(handler)); },
            cut);
        if (!ec) {
            throw TimeoutError(what + ": connecting took too long");
        }
        if (*ec) {
            throw std::runtime_error(what +
                                     ": cannot connect to the test server: " + ec->message());
        }
        error_code ignored;
        stream.socket().set_option(tcp::no_delay(true), ignored);
        if (!tls) {
            return;
        }
        stream.start_tls(*tls, options.tls.server_name);
        ec = run_for(
            io_of(stream), left_until(deadline),
            [&](auto handler) { stream.async_handshake(std::move(handler)); }, cut);
        if (!ec) {
            throw TimeoutError(what + ": the TLS handshake took too long");
        }
        if (*ec) {
            stream.close();
            throw std::runtime_error(what + ": the TLS handshake failed: " + ec->message());
        }
    }

    static asio::io_context& io_of(ClientStream& stream) {
        return static_cast<asio::io_context&>(stream.get_executor().context());
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
        const bool has_form = !o.form.empty() || !o.files.empty();
        if (int(o.body.has_value()) + int(o.json.value.has_value()) + int(has_form) > 1) {
            throw std::invalid_argument(
                "TestClient: a request has one of a body, a json and a form, not several");
        }
        std::string verb(method);
        std::string target = make_target(path, o.query);
        std::optional<std::string> body = o.body;
        std::string content_type = "application/octet-stream";
        if (o.json.value) {
            body = boost::json::serialize(*o.json.value);
            content_type = "application/json";
        }
        if (has_form) {
            body = encode_form(o.form, o.files, content_type);
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
        urls::url base =
            urls::parse_uri((tls ? "https://" : "http://") + options.host + target).value();
        urls::url resolved;
        if (!urls::resolve(base, *reference, resolved)) {
            return std::nullopt;
        }
        if (resolved.scheme() != (tls ? "https" : "http") ||
            resolved.encoded_authority() != options.host) {
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

        connect_stream(d.ws.next_layer(), deadline, "WebSocket " + d.target, [&d] { d.shut(); });

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
        auto ec = d.run(left_until(deadline), "the handshake", [&](auto handler) {
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
