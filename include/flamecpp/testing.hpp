/// @file
/// Testing an app: a TestClient that serves the app on a private loopback port for as long as
/// the client lives, and makes calls that look synchronous. It talks to the real server (the
/// same parser, router, limits and WebSocket code as production), so what passes here passes
/// there, 413 and 1009 included. Link the `flamecpp::testing` target.
///
/// @code
/// #include <flamecpp/testing.hpp>
///
/// TEST(Notes, CreatesANote) {
///     flamecpp::testing::TestClient client(make_app());
///     auto created = client.post("/notes", {.json = {{"text", "milk"}}});
///     EXPECT_EQ(created.status, 201);
///     EXPECT_EQ(created.json().at("text"), "milk");
/// }
/// @endcode
#pragma once

#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/json/value.hpp>
#include <boost/json/value_ref.hpp>

#include <flamecpp/app.hpp>
#include <flamecpp/task.hpp>

namespace flamecpp::testing {

/// Header fields in order; names compare case-insensitively wherever they are looked up.
using Headers = std::vector<std::pair<std::string, std::string>>;
/// Query parameters in order; a name may repeat.
using QueryParams = std::vector<std::pair<std::string, std::string>>;

/// Nothing came from the server within the call's timeout. The connection it waited on is
/// closed; a WebSocket session is unusable after it.
class TimeoutError : public std::runtime_error {
public:
    /// std::runtime_error's constructors: the message says what took too long.
    using std::runtime_error::runtime_error;
};

/// The server closed the WebSocket: `code()` is the code of its close frame (1005 when the
/// frame had none; 1006 when the TCP connection ended without a close frame).
class WebSocketClosed : public std::runtime_error {
public:
    /// The message (what()) says "the WebSocket was closed with code `code` (`reason`)".
    WebSocketClosed(int code, std::string reason);
    /// The close code: the server's, 1005 (none in its frame) or 1006 (no close frame).
    int code() const noexcept { return code_; }
    /// The reason in the server's close frame (for 1006, how the TCP connection ended).
    const std::string& reason() const noexcept { return reason_; }

private:
    int code_;
    std::string reason_;
};

/// The server answered a WebSocket upgrade with an HTTP status instead of 101 (403 from a
/// handler that closed before accepting, 404 for a path without a WebSocket route, ...).
class WebSocketRejected : public std::runtime_error {
public:
    /// The message (what()) names the status and quotes the start of the body.
    WebSocketRejected(int status, Headers headers, std::string body);
    /// The status of the server's answer.
    int status() const noexcept { return status_; }
    /// The answer's header fields, in wire order.
    const Headers& headers() const noexcept { return headers_; }
    /// The answer's body.
    const std::string& body() const noexcept { return body_; }
    /// The first header named `name` (case-insensitive), if any.
    std::optional<std::string> header(std::string_view name) const;

private:
    int status_;
    Headers headers_;
    std::string body_;
};

/// A JSON request body: `.json = {{"name", "milk"}, {"done", false}}`, or any value
/// Boost.JSON can build (`.json = boost::json::array{1, 2}`, `.json = nullptr` for `null`).
/// Default-constructed, it means "no JSON body".
struct JsonBody {
    /// No JSON body.
    JsonBody() = default;
    /// The value Boost.JSON builds from `init`: an object from `{{"name", "milk"}}`, an array
    /// from a list of values.
    JsonBody(std::initializer_list<boost::json::value_ref> init)
        : value(boost::json::value(init)) {}
    // Implicit on purpose (`.json = boost::json::array{...}`). The constraint keeps JsonBody
    // itself out (no json::value is made from one), so copy and move are not hidden.
    // NOLINTBEGIN(bugprone-forwarding-reference-overload)
    /// Any value a boost::json::value can be made from (`boost::json::array{1, 2}`, `nullptr`).
    template <class T>
        requires std::constructible_from<boost::json::value, T&&> JsonBody(T&& v)
            : value(boost::json::value(std::forward<T>(v))) {}
        // NOLINTEND(bugprone-forwarding-reference-overload)

        /// The JSON value to send; none: no JSON body.
        std::optional<boost::json::value> value;
};

/// A file in a multipart form sent by TestClient (RequestOptions::files).
struct FormFile {
    std::string field;                                      ///< the form field it is sent as
    std::string filename;                                   ///< the file name sent to the app
    std::string content;                                    ///< the file's bytes
    std::string content_type = "application/octet-stream";  ///< the part's Content-Type
};

/// Everything a request may carry besides its method and path. Use designated initializers:
/// `client.get("/search", {.query = {{"q", "milk"}}, .headers = {{"Accept", "text/plain"}}})`.
struct RequestOptions {
    /// Appended to the path's own query string, percent-encoded.
    QueryParams query;
    /// Added to the request; a header named like one the client sets (Host, User-Agent, Accept,
    /// Cookie, Content-Type) replaces it.
    Headers headers;
    /// A raw body, sent as is (Content-Type: application/octet-stream unless `headers` says).
    std::optional<std::string> body;
    /// A JSON body (Content-Type: application/json). Not together with `body`.
    JsonBody json;
    /// Form fields, sent `application/x-www-form-urlencoded`, or as `multipart/form-data`
    /// when there are `files`. Not together with `body` or `json`.
    std::vector<std::pair<std::string, std::string>> form;
    /// Files of a `multipart/form-data` body, after the `form` fields.
    std::vector<FormFile> files;
    /// Overrides ClientOptions::follow_redirects for this call.
    std::optional<bool> follow_redirects;
    /// Overrides ClientOptions::timeout for this call.
    std::optional<std::chrono::milliseconds> timeout;
};

/// A complete response.
struct TestResponse {
    int status = 0;      ///< the status code
    std::string reason;  ///< the reason phrase of the status line
    Headers headers;     ///< in wire order
    std::string body;    ///< de-chunked; empty for HEAD
    /// The path and query that produced this response (the last hop after redirects).
    std::string url;
    /// How many redirects were followed to get here.
    int redirects = 0;

    /// The first header with that name (case-insensitive), if any.
    std::optional<std::string> header(std::string_view name) const;
    /// Every value of the headers with that name, in order (Set-Cookie, Vary, ...).
    std::vector<std::string> header_values(std::string_view name) const;
    /// The body as text.
    const std::string& text() const noexcept { return body; }
    /// The body as bytes.
    std::span<const std::byte> bytes() const noexcept { return std::as_bytes(std::span(body)); }
    /// The body parsed as JSON; throws std::runtime_error quoting the body when it is not JSON.
    /// Parsed once and kept with the response (parsed again if `body` changes), so the value
    /// lives as long as the response: `for (auto& item : r.json().as_array())` is safe.
    const boost::json::value& json() const&;
    /// On a response about to be destroyed (`client.get("/x").json()`), the value itself.
    boost::json::value json() &&;
    /// 2xx.
    bool ok() const noexcept { return status >= 200 && status < 300; }

    /// Internal: the last parse of `body` by json(), shared by copies.
    struct ParsedJson;
    /// Internal: json()'s cache; not for tests to use.
    mutable std::shared_ptr<const ParsedJson> parsed_json_;
};

/// The client's cookies, kept like a browser keeps them for one site: Set-Cookie answers
/// store, replace and delete them (Max-Age, Expires, Path, Domain are honoured), and requests
/// send the ones whose Path matches. Secure cookies are kept and sent too: the test server
/// counts as a secure origin, as localhost does in browsers.
class CookieJar {
public:
    /// One cookie held.
    struct Entry {
        /// The cookie's name.
        std::string name;
        /// Its value, as the server sent it.
        std::string value;
        /// The paths it is sent to: its Path attribute, else the directory of the request
        /// that set it.
        std::string path = "/";
        /// When it expires (from Max-Age or Expires); none: a session cookie.
        std::optional<std::chrono::system_clock::time_point> expires;
        /// The cookie had `Secure`.
        bool secure = false;
        /// The cookie had `HttpOnly`.
        bool http_only = false;
    };

    /// The value of cookie `name` (any path), if the jar holds it and it has not expired.
    std::optional<std::string> get(std::string_view name) const;
    /// Sets a cookie by hand, as if the server had sent it.
    void set(std::string name, std::string value, std::string path = "/");
    /// Forgets every cookie named `name`.
    void erase(std::string_view name);
    /// Forgets every cookie.
    void clear() noexcept { entries_.clear(); }
    /// The cookies held, expired ones dropped.
    const std::vector<Entry>& entries() const;

    /// Applies one Set-Cookie field value received for a request to `request_path` from
    /// `host`. Malformed cookies and cookies for another domain are ignored, as browsers do.
    void store(std::string_view set_cookie, std::string_view request_path, std::string_view host);
    /// The Cookie header value for a request to `path` ("" when no cookie applies).
    std::string header_for(std::string_view path) const;

private:
    void drop_expired() const;
    mutable std::vector<Entry> entries_;
};

/// Serving the app over TLS in a test (HTTPS and WSS), to test an app's TLS setup.
struct ClientTls {
    /// What the app serves. Empty (the default): plain HTTP.
    TlsCertificate certificate;
    /// The CA the client trusts to have signed it (a test CA's PEM file). Empty: the system's
    /// CAs.
    std::string ca_file;
    /// The name the client asks for (SNI) and checks the certificate against.
    std::string server_name = "localhost";
};

/// How a TestClient serves the app and makes its calls. Use designated initializers:
/// `TestClient client(app, {.follow_redirects = true})`.
struct ClientOptions {
    /// Rethrow, in the test, the exception a handler let escape (as Starlette's
    /// raise_server_exceptions). Off: the call returns the 500 (or sees the 1011 close).
    bool raise_server_exceptions = true;
    /// Follow 301/302/303/307/308 answers (at most 20) within the app. Off by default, so tests
    /// see the redirect itself (Starlette's TestClient follows them by default).
    bool follow_redirects = false;
    /// The longest any call waits for the server: a request's whole response, a WebSocket
    /// handshake, message or close.
    std::chrono::milliseconds timeout{5000};
    /// Sent with every request (an Authorization header, say).
    Headers headers;
    /// The Host header (and cookie domain).
    std::string host = "testserver";
    /// The server's worker threads.
    unsigned threads = 1;
    /// The server's log level; handler errors are logged at `error`.
    LogLevel log_level = LogLevel::warn;
    /// Serve the app over TLS, and check its certificate (docs/tls.md).
    ClientTls tls;
};

/// A message received on a WebSocket.
struct WebSocketMessage {
    bool binary = false;  ///< true for a binary message, false for text
    std::string data;     ///< the payload
};

class TestClient;

/// One WebSocket connection to the app, from TestClient::websocket_connect. Every receive waits
/// at most the client's timeout (or the one given): a server that never answers fails the test
/// with TimeoutError instead of hanging it. When the server closes, receives throw
/// WebSocketClosed with its code.
class WebSocketTestSession {
public:
    /// Closes the connection if it is still open: a close frame with 1000 (the server's
    /// handler sees 1000), waiting at most a second for the server's answer.
    ~WebSocketTestSession();
    /// Takes the other session's connection; the session moved from may only be destroyed or
    /// assigned to.
    WebSocketTestSession(WebSocketTestSession&&) noexcept;
    /// Takes the other session's connection, as the move constructor.
    WebSocketTestSession& operator=(WebSocketTestSession&&) noexcept;

    /// The subprotocol the server accepted ("" for none).
    const std::string& subprotocol() const noexcept;
    /// The headers of the server's 101 answer.
    const Headers& headers() const noexcept;
    /// The first header of the 101 answer named `name` (case-insensitive), if any.
    std::optional<std::string> header(std::string_view name) const;

    /// Sends a text message and waits until it is written. Throws WebSocketClosed when the
    /// server has closed, TimeoutError past the timeout.
    void send_text(std::string_view text);
    /// Sends a binary message, as send_text.
    void send_bytes(std::string_view bytes);
    /// Sends a binary message, as send_text.
    void send_bytes(std::span<const std::byte> bytes);
    /// Sends the value serialized, as a text message.
    void send_json(const boost::json::value& value);

    /// The next message, text or binary.
    WebSocketMessage receive(std::optional<std::chrono::milliseconds> timeout = {});
    /// The next message, which must be text (std::runtime_error otherwise).
    std::string receive_text(std::optional<std::chrono::milliseconds> timeout = {});
    /// The next message, which must be binary (std::runtime_error otherwise).
    std::string receive_bytes(std::optional<std::chrono::milliseconds> timeout = {});
    /// The next message (text or binary) parsed as JSON; std::runtime_error quoting it when it
    /// is not JSON.
    boost::json::value receive_json(std::optional<std::chrono::milliseconds> timeout = {});

    /// Starts the close handshake with `code` and waits for the server's close frame; returns
    /// the code it carried. Messages arriving meanwhile are dropped.
    int close(int code = 1000, std::string_view reason = {});

    /// True until either side closed.
    bool is_open() const noexcept;
    /// The server's close code once the connection has ended.
    std::optional<int> close_code() const noexcept;

    /// Internal: the connection, defined inside the library.
    struct Impl;

private:
    friend class TestClient;
    explicit WebSocketTestSession(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

/// Serves an app on 127.0.0.1 (an ephemeral port) from the client's construction to its
/// destruction, and calls it. Calls block the test's thread; the app runs on its own. One
/// client is meant for one test thread.
class TestClient {
public:
    /// Borrows the app: it must outlive the client, and must not change while served.
    explicit TestClient(App& app, ClientOptions options = {});
    /// Owns the app: `TestClient client(make_app());`.
    explicit TestClient(App&& app, ClientOptions options = {});
    /// Stops the server (letting in-flight work finish). A handler exception nobody collected
    /// yet is printed to stderr; call close() to have it thrown instead.
    ~TestClient();
    /// Not copyable: the client owns the server it runs.
    TestClient(const TestClient&) = delete;
    /// Not copyable.
    TestClient& operator=(const TestClient&) = delete;

    /// Sends a GET for `path` ("/a/b?x=1") and returns the complete response. Every call
    /// stores the cookies the answer sets and sends those that apply, follows redirects within
    /// the app when asked to, and then rethrows a handler's exception (with
    /// ClientOptions::raise_server_exceptions). Throws TimeoutError when the answer takes
    /// longer than the timeout, std::invalid_argument for options that conflict (`body` with
    /// `json`, ...) or a path without its leading '/'.
    TestResponse get(std::string_view path, const RequestOptions& options = {});
    /// Sends a HEAD, as get(); the response has no body.
    TestResponse head(std::string_view path, const RequestOptions& options = {});
    /// Sends an OPTIONS, as get().
    TestResponse options(std::string_view path, const RequestOptions& options = {});
    /// Sends a POST, as get(): the body comes from `options` (body, json or form).
    TestResponse post(std::string_view path, const RequestOptions& options = {});
    /// Sends a PUT, as post().
    TestResponse put(std::string_view path, const RequestOptions& options = {});
    /// Sends a PATCH, as post().
    TestResponse patch(std::string_view path, const RequestOptions& options = {});
    /// Sends a DELETE, as post().
    TestResponse delete_(std::string_view path, const RequestOptions& options = {});
    /// Any method, "PROPFIND" included, as get(). `path` is an origin-form target ("/a/b?x=1");
    /// characters a target cannot hold (spaces, ...) are percent-encoded.
    TestResponse request(std::string_view method,
                         std::string_view path,
                         const RequestOptions& options = {});

    /// Upgrades `path` to a WebSocket, offering `subprotocols` in order. Throws
    /// WebSocketRejected when the server answers with another status than 101.
    WebSocketTestSession websocket_connect(std::string_view path,
                                           const std::vector<std::string>& subprotocols = {},
                                           Headers headers = {});

    /// The client's cookies, to read or set between calls.
    CookieJar& cookies() noexcept;
    /// The client's cookies, read-only.
    const CookieJar& cookies() const noexcept;

    /// The port the app is served on, for clients of your own (0 after close()).
    std::uint16_t port() const noexcept;
    /// The app served.
    App& app() noexcept;

    /// Stops the server now (in-flight work finishes first), then rethrows the first handler
    /// exception not yet raised, if raise_server_exceptions is on. Calls after it throw.
    void close();

    /// Internal: the server and the connection, defined inside the library.
    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

namespace detail {
/// Runs `task` on a private io_context until it finishes; throws TimeoutError after `timeout`.
void run_task(Task<void> task, std::chrono::milliseconds timeout);

template <class T>
Task<void> store_result(Task<T> task, std::optional<T>& out) {
    out.emplace(co_await std::move(task));
}
}  // namespace detail

/// Runs a coroutine to completion from a test body and returns its result (or rethrows its
/// exception): for unit tests of your own `Task<T>` functions, without a server.
///
/// @code
/// EXPECT_EQ(flamecpp::testing::run(load_user(42)).name, "ann");
/// @endcode
template <class T>
T run(Task<T> task, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    if constexpr (std::is_void_v<T>) {
        detail::run_task(std::move(task), timeout);
    } else {
        std::optional<T> out;
        detail::run_task(detail::store_result(std::move(task), out), timeout);
        return std::move(*out);
    }
}

}  // namespace flamecpp::testing
