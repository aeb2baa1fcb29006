// The HTTP/1.1 connection loop: read, parse every complete request in the buffer, answer each
// in order into one output buffer, write once, repeat. Beast's basic_parser does the parsing;
// its callbacks copy what the request needs into per-connection storage that is reused, so
// a warmed-up connection does not allocate per request.

#include <array>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <system_error>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>

#include <flamecpp/http_exception.hpp>

#include "app/app_impl.hpp"
#include "app/components.hpp"
#include "http/ascii.hpp"
#include "http/detail_response.hpp"
#include "http/request_builder.hpp"
#include "log.hpp"
#include "server/websocket_session.hpp"
#include "server/worker.hpp"

namespace flamecpp::detail {
namespace asio = boost::asio;
namespace http = boost::beast::http;
using asio::ip::tcp;
using boost::system::error_code;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

/// Framing errors of our own, for what the contract rejects and Beast 1.81 accepts.
enum class Framing { ok, conflicting, unsupported_coding };

/// Method names map onto the framework's enum; unknown tokens are `Method::other`.
Method to_method(http::verb v) noexcept {
    switch (v) {
        case http::verb::get:
            return Method::get;
        case http::verb::head:
            return Method::head;
        case http::verb::post:
            return Method::post;
        case http::verb::put:
            return Method::put;
        case http::verb::patch:
            return Method::patch;
        case http::verb::delete_:
            return Method::delete_;
        case http::verb::options:
            return Method::options;
        default:
            return Method::other;
    }
}

/// Where a copied string sits in the header store: views are made only once the header is
/// complete, since the store may grow (and move) while fields arrive.
struct Span {
    std::uint32_t offset;
    std::uint32_t size;
};

/// Storage reused by every request of a connection, so a warmed-up one does not allocate.
struct RequestStorage {
    std::string store;  ///< method, target, field names and values, back to back
    std::vector<std::pair<Span, Span>> fields;
    std::string body;
};

/// Parses one request into a Request, copying header bytes into `storage.store` and the
/// body into `storage.body`.
class RequestParser final : public http::basic_parser<true> {
public:
    RequestParser(Request& request, RequestStorage& storage, const Limits& limits)
        : builder_(request), store_(storage.store), fields_(storage.fields), body_(storage.body) {
        header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
        body_limit(limits.max_body_bytes);
        builder_.reset();
        store_.clear();
        fields_.clear();
        body_.clear();
    }

    Framing framing() const noexcept { return framing_; }

private:
    void on_request_impl(http::verb method,
                         boost::beast::string_view method_str,
                         boost::beast::string_view target,
                         int version,
                         error_code&) override {
        method_ = to_method(method);
        version_ = static_cast<unsigned>(version);
        method_name_ = append(method_str);
        target_ = append(target);
    }

    void on_response_impl(int, boost::beast::string_view, int, error_code&) override {}

    void on_field_impl(http::field field,
                       boost::beast::string_view name,
                       boost::beast::string_view value,
                       error_code&) override {
        if (is_header_done()) {
            // A trailer section after a chunked body. Discarded (RFC 9112 7.1.2 allows it):
            // trailers must not pass for headers, and appending to `store_` now would move
            // the bytes the request's views already point into.
            return;
        }
        if (field == http::field::content_length) {
            has_length_ = true;
        } else if (field == http::field::transfer_encoding) {
            // Only "chunked" alone is supported; a list of codings or a repeated field is a
            // coding we do not implement (RFC 9112 6.1: 501).
            if (has_coding_ ||
                !iequals(trim_ows(std::string_view(value.data(), value.size())), "chunked")) {
                unsupported_coding_ = true;
            }
            has_coding_ = true;
        }
        fields_.emplace_back(append(name), append(value));
    }

    void on_header_impl(error_code& ec) override {
        // RFC 9112 6.1: a message with both Content-Length and Transfer-Encoding may be a
        // smuggling attempt; 6.3: Transfer-Encoding in HTTP/1.0 means faulty framing.
        if (has_coding_ && (has_length_ || version_ < 11)) {
            framing_ = Framing::conflicting;
            ec = http::error::bad_transfer_encoding;
            return;
        }
        if (unsupported_coding_) {
            framing_ = Framing::unsupported_coding;
            ec = http::error::bad_transfer_encoding;
            return;
        }
        builder_.set_start(method_, view(method_name_), view(target_), version_);
        for (const auto& [name, value] : fields_) {
            builder_.add_header(view(name), view(value));
        }
        builder_.set_keep_alive(keep_alive());
    }

    void on_body_init_impl(const boost::optional<std::uint64_t>& length, error_code&) override {
        if (length) {
            body_.reserve(static_cast<std::size_t>(*length));  // <= body_limit, checked by Beast
        }
    }

    std::size_t on_body_impl(boost::beast::string_view data, error_code&) override {
        body_.append(data.data(), data.size());
        return data.size();
    }

    void on_chunk_header_impl(std::uint64_t, boost::beast::string_view, error_code&) override {}

    std::size_t on_chunk_body_impl(std::uint64_t,
                                   boost::beast::string_view data,
                                   error_code&) override {
        body_.append(data.data(), data.size());
        return data.size();
    }

    void on_finish_impl(error_code&) override { builder_.set_body(body_); }

    Span append(boost::beast::string_view s) {
        auto start = store_.size();
        store_.append(s.data(), s.size());
        return Span{static_cast<std::uint32_t>(start), static_cast<std::uint32_t>(s.size())};
    }

    std::string_view view(Span s) const noexcept {
        return std::string_view(store_).substr(s.offset, s.size);
    }

    RequestBuilder builder_;
    std::string& store_;
    std::vector<std::pair<Span, Span>>& fields_;
    std::string& body_;
    Method method_ = Method::get;
    unsigned version_ = 11;
    Span method_name_{};
    Span target_{};
    bool has_length_ = false;
    bool has_coding_ = false;
    bool unsupported_coding_ = false;
    Framing framing_ = Framing::ok;
};

/// The one place parser errors become statuses.
Status status_for(const error_code& ec, Framing framing) noexcept {
    if (framing == Framing::unsupported_coding) {
        return Status::not_implemented;
    }
    if (ec == http::error::header_limit) {
        return Status::request_header_fields_too_large;
    }
    if (ec == http::error::body_limit) {
        return Status::payload_too_large;
    }
    return Status::bad_request;
}

/// Writes each chunk of a streamed body straight to the socket (RFC 9112 7.1).
class ChunkWriter final : public BodyWriter {
public:
    explicit ChunkWriter(tcp::socket& socket) : socket_(socket) {}

    Task<void> write(std::string_view data) override {
        if (data.empty() || failed_) {
            co_return;
        }
        char size_line[20];
        int n = std::snprintf(size_line, sizeof(size_line), "%zx\r\n", data.size());
        std::array<asio::const_buffer, 3> buffers{asio::buffer(size_line, std::size_t(n)),
                                                  asio::buffer(data.data(), data.size()),
                                                  asio::buffer("\r\n", 2)};
        auto [ec, written] = co_await asio::async_write(socket_, buffers, use_tuple);
        (void)written;
        if (ec) {
            failed_ = true;
            throw std::system_error(ec, "client went away during a streamed response");
        }
    }

    bool failed() const noexcept { return failed_; }

private:
    tcp::socket& socket_;
    bool failed_ = false;
};

class HttpSession {
public:
    HttpSession(Worker& worker, tcp::socket socket)
        : worker_(worker),
          socket_(std::move(socket)),
          limits_(worker.app.limits),
          components_(worker.app.components) {
        conn_.socket = &socket_;
        worker_.attach(conn_);
        error_code ec;
        auto remote = socket_.remote_endpoint(ec);
        if (!ec) {
            client_ = remote.address().to_string() + ":" + std::to_string(remote.port());
        }
        RequestBuilder(request_).set_client(client_);
    }

    ~HttpSession() {
        worker_.give_back(in_);
        worker_.detach(conn_);
    }

    asio::awaitable<void> run() {
        for (;;) {
            bool close_after = false;
            // Answer every complete request already buffered; their responses go out in one
            // write (pipelining, RFC 9112 9.3.2: in order).
            while (!close_after) {
                auto step = parse();
                if (step == Step::need_more) {
                    break;
                }
                if (step == Step::error) {
                    close_after = true;
                    break;
                }
                co_await handle(close_after);
                if (upgraded_) {
                    co_return;  // the socket went to the WebSocket session
                }
            }
            std::size_t sent = 0;
            if (!out_.empty()) {
                if (flush_now(sent)) {
                    if (!close_after) {
                        co_await worker_.after_queued_work();
                    }
                } else {
                    bool ok = co_await flush(sent);
                    if (!ok) {
                        co_return;
                    }
                }
            }
            if (close_after) {
                co_await lingering_close();
                co_return;
            }
            bool more = co_await read_more();
            if (!more) {
                co_return;
            }
        }
    }

private:
    enum class Step { need_more, request, error };

    Step parse() {
        if (in_.size() == 0) {
            return Step::need_more;
        }
        if (!parser_) {
            parser_.emplace(request_, storage_, limits_);
            header_bytes_ = 0;
            header_scan_ = HeaderScan{};
        }
        for (;;) {
            const bool in_header = !parser_->is_header_done();
            error_code ec;
            auto used = parser_->put(in_.data(), ec);
            if (in_header && header_scan_.folded(std::string_view(
                                 static_cast<const char*>(in_.data().data()), used))) {
                // Beast unfolds obs-fold silently; RFC 9112 5.2 lets a server do that, but a
                // proxy in front may read the field differently: refuse (400), as 2.2 also
                // asks for whitespace before the first field.
                ec = http::error::bad_field;
            }
            in_.consume(used);
            if (in_header) {
                // Beast applies header_limit to what one put() leaves unconsumed, and fields
                // completed by earlier calls are consumed: a header arriving over several
                // reads could grow without bound. Count across calls.
                header_bytes_ += used;
                if (header_bytes_ > limits_.max_header_bytes ||
                    (ec == http::error::need_more &&
                     header_bytes_ + in_.size() > limits_.max_header_bytes)) {
                    ec = http::error::header_limit;
                }
            }
            if (ec == http::error::need_more) {
                return Step::need_more;
            }
            if (ec) {
                SPDLOG_LOGGER_DEBUG(&logger(), "{}: bad request: {}", client_, ec.message());
                queue_error(status_for(ec, parser_->framing()));
                parser_.reset();
                return Step::error;
            }
            if (parser_->is_done()) {
                return Step::request;
            }
            if (used == 0 || in_.size() == 0) {
                return Step::need_more;
            }
        }
    }

    void queue_error(Status status) {
        Response r = Response::text(std::string(reason_phrase(status)), status);
        write_response_head(r, /*close=*/true, /*head_only=*/false);
        out_.append(r.body());
        log_access_line(status, r.body().size(), /*parsed=*/false);
    }

    asio::awaitable<void> handle(bool& close_after) {
        conn_.phase = Connection::Phase::busy;
        conn_.set_deadline(Clock::time_point::max());
        const bool keep_alive = parser_->keep_alive();
        // Beast already knows whether Connection and Upgrade ask for an upgrade: only then
        // are the headers scanned for "websocket".
        const bool upgrade_asked = parser_->upgrade();
        parser_.reset();
        RequestBuilder builder(request_);

        Response response;
        bool head_only = request_.method() == Method::head;
        const Router& router = worker_.app.router;
        const bool upgrade = upgrade_asked && is_websocket_upgrade(request_);
        auto match =
            router.match(request_.method(), request_.raw_path(), scratch_, builder.path_params(),
                         upgrade ? RouteKind::websocket : RouteKind::http);
        if (upgrade && match.status == MatchStatus::found) {
            builder.set_route(match.route->pattern);
            co_await upgrade_to_websocket(*match.route);
            co_return;
        }
        switch (match.status) {
            case MatchStatus::bad_path:
                response = Response::text("Bad Request", Status::bad_request);
                break;
            case MatchStatus::not_found:
                if (match.other_kind && !upgrade) {
                    // RFC 9110 15.5.22: only a WebSocket lives here; say how to reach it.
                    response = Response::text("Upgrade Required: this is a WebSocket endpoint",
                                              Status::upgrade_required)
                                   .with_header("Upgrade", "websocket");
                } else {
                    response = Response::text("Not Found", Status::not_found);
                }
                break;
            case MatchStatus::method_not_allowed:
                if (request_.method() == Method::options) {
                    response = Response::empty(Status::no_content);
                } else {
                    response = Response::text("Method Not Allowed", Status::method_not_allowed);
                }
                response.with_header("Allow", match.allow.allow_header());
                break;
            case MatchStatus::found:
                builder.set_route(match.route->pattern);
                co_await call_handler(*match.route, response);
                break;
        }

        close_after = !keep_alive || worker_.draining;
        if (response.is_stream()) {
            co_await send_stream(response, close_after, head_only);
        } else {
            bool wrote = write_response_head(response, close_after, head_only);
            if (!wrote) {
                response = Response::text("Internal Server Error", Status::internal_server_error);
                write_response_head(response, close_after, head_only);
            }
            if (!head_only && !status_forbids_body(response.status())) {
                out_.append(response.body());
            }
            log_access_line(response.status(), response.body().size(), true);
        }
        conn_.phase = Connection::Phase::idle;  // between requests
    }

    /// Hands the socket to a WebSocket route. Responses to earlier pipelined requests go out
    /// first; bytes after the upgrade request (a client may not send frames before the 101,
    /// RFC 6455 4.1) make it a bad request.
    asio::awaitable<void> upgrade_to_websocket(const Route& route) {
        if (in_.size() != 0) {
            queue_error(Status::bad_request);
            co_await flush();
            co_await lingering_close();
            upgraded_ = true;
            co_return;
        }
        upgraded_ = true;
        if (!out_.empty()) {
            // GCC 12 miscompiles co_await inside && (SIGILL): keep awaits in statements.
            bool flushed = co_await flush();
            if (!flushed) {
                co_return;
            }
        }
        log_access_line(Status::switching_protocols, 0, true);
        auto websocket = run_websocket_session(worker_, std::move(socket_), request_, route, conn_);
        co_await std::move(websocket);
    }

    asio::awaitable<void> call_handler(const Route& route, Response& response) {
        CallContext ctx(request_);
        ctx.app = worker_.app.self;
        ctx.components = &components_;
        try {
            if (route.needs_components && !prepare_components_now(ctx, route.components)) {
                co_await prepare_components(ctx, route.components);
            }
            if (!route.handler->call_sync(ctx, response)) {
                co_await route.handler->call_async(ctx, response);
            }
        } catch (const HTTPException& e) {
            response = detail_response(e.status(), e.detail());
        } catch (const std::exception& e) {
            logger().error("handler of route '{}' ({} {}) threw: {}", route.pattern,
                           request_.method_name(), request_.target(), e.what());
            worker_.handler_failed(std::current_exception());
            response = Response::text("Internal Server Error", Status::internal_server_error);
        } catch (...) {
            logger().error("handler of route '{}' ({} {}) threw a non-standard exception",
                           route.pattern, request_.method_name(), request_.target());
            worker_.handler_failed(std::current_exception());
            response = Response::text("Internal Server Error", Status::internal_server_error);
        }
        components_.clear();
    }

    /// Appends the response head; false (and nothing appended) when the handler produced
    /// headers that would break framing, which is logged as a handler error.
    bool write_response_head(const Response& response, bool close, bool) {
        HeadOptions options;
        options.server = worker_.app.server_header;
        options.date = worker_.date.now();
        options.close = close;
        options.keep_alive_10 = !close && request_.version() == 10;
        options.chunked = response.is_stream();
        options.cache = &worker_.head_cache;
        auto mark = out_.size();
        try {
            write_head(out_, response, options);
            return true;
        } catch (const std::exception& e) {
            out_.resize(mark);
            logger().error("route '{}' ({} {}): {}", request_.route(), request_.method_name(),
                           request_.target(), e.what());
            worker_.handler_failed(std::current_exception());
            return false;
        }
    }

    asio::awaitable<void> send_stream(Response& response, bool& close_after, bool head_only) {
        if (!write_response_head(response, close_after, head_only)) {
            response = Response::text("Internal Server Error", Status::internal_server_error);
            write_response_head(response, close_after, head_only);
            out_.append(response.body());
            co_return;
        }
        log_access_line(response.status(), 0, true);
        if (head_only) {
            co_return;
        }
        bool flushed = co_await flush();
        if (!flushed) {
            close_after = true;
            co_return;
        }
        ChunkWriter writer(socket_);
        try {
            co_await response.stream_body()(writer);
            out_.append("0\r\n\r\n");
        } catch (const std::exception& e) {
            // The head is gone already: the only honest signal left is to cut the connection
            // without the final chunk, so the client sees an incomplete body.
            if (!writer.failed()) {
                logger().error("streamed body of route '{}' threw: {}", request_.route(), e.what());
                worker_.handler_failed(std::current_exception());
            }
            close_after = true;
            error_code ec;
            socket_.close(ec);
        }
    }

    void log_access_line(Status status, std::size_t bytes, bool parsed) {
        auto& log = logger();
        if (!log.should_log(spdlog::level::info)) {
            return;
        }
        if (parsed) {
            log.info("{} \"{} {} HTTP/{}.{}\" {} {}", client_, request_.method_name(),
                     request_.target(), request_.version() / 10, request_.version() % 10,
                     static_cast<unsigned>(status), bytes);
        } else {
            log.info("{} \"-\" {} {}", client_, static_cast<unsigned>(status), bytes);
        }
    }

    /// Sends `out_` with one non-blocking send(2), without suspending. True: it all went out.
    /// False: `sent` bytes went (maybe none) and flush(sent) sends the rest, or meets the
    /// error again and reports it. A response that fits the socket buffer, nearly every one,
    /// costs no completion handler and no trip through the scheduler.
    bool flush_now(std::size_t& sent) {
        error_code ec;
        sent = socket_.write_some(asio::buffer(out_), ec);
        if (sent != out_.size()) {
            return false;
        }
        reset_out();
        return true;
    }

    /// Sends `out_` from byte `from` on, waiting for the socket as needed. False: the
    /// connection is gone.
    asio::awaitable<bool> flush(std::size_t from = 0) {
        auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(out_) + from, use_tuple);
        (void)n;
        reset_out();
        if (ec) {
            SPDLOG_LOGGER_DEBUG(&logger(), "{}: write failed: {}", client_, ec.message());
            co_return false;
        }
        co_return true;
    }

    void reset_out() {
        if (out_.capacity() > 64 * 1024) {
            std::string().swap(out_);  // do not keep a large response's buffer forever
        } else {
            out_.clear();
        }
    }

    /// Reads more bytes under the deadline that fits what is pending. False: close now.
    asio::awaitable<bool> read_more() {
        const bool partial = parser_.has_value() || in_.size() != 0;
        if (!partial && worker_.draining) {
            co_return false;
        }
        // Between requests and at a request's first byte the clock restarts at the reaper's
        // next sweep: no clock read per request. A request that takes more than one read
        // gets exact deadlines.
        if (!partial) {
            conn_.phase = Connection::Phase::idle;
            conn_.restart_at_next_sweep(limits_.idle_timeout);
        } else if (conn_.phase != Connection::Phase::reading) {
            conn_.phase = Connection::Phase::reading;
            conn_.set_deadline(Clock::now() + limits_.header_timeout);
        } else if (parser_ && parser_->is_header_done() && !body_deadline_set_) {
            conn_.set_deadline(Clock::now() + limits_.body_timeout);
            body_deadline_set_ = true;
        }
        error_code ec;
        std::size_t n = 0;
        if (!partial) {
            // Idle between requests: the read buffer goes back to the thread's spares and the
            // next request's first bytes land in a small buffer inside the session, so an
            // idle keep-alive connection holds no read buffer. (A readiness wait instead would
            // cost an epoll_ctl per request in Asio's reactor.)
            worker_.give_back(in_);
            auto [read_ec, read_n] =
                co_await socket_.async_read_some(asio::buffer(first_bytes_), use_tuple);
            ec = read_ec;
            if (!ec) {
                in_ = worker_.take_buffer();
                auto room = in_.prepare(read_size);
                std::memcpy(room.data(), first_bytes_.data(), read_n);
                n = read_n;
            }
        } else {
            auto [read_ec, read_n] =
                co_await socket_.async_read_some(in_.prepare(read_size), use_tuple);
            ec = read_ec;
            n = read_n;
        }
        in_.commit(n);
        if (!ec) {
            if (conn_.phase == Connection::Phase::idle) {
                conn_.phase = Connection::Phase::reading;  // first byte: the header clock starts
                conn_.restart_at_next_sweep(limits_.header_timeout);
                body_deadline_set_ = false;
            }
            co_return true;
        }
        if (conn_.timed_out && conn_.phase == Connection::Phase::reading &&
            !(parser_ && parser_->is_header_done())) {
            // RFC 9110 15.5.9: the header did not arrive in time.
            SPDLOG_LOGGER_DEBUG(&logger(), "{}: header timeout", client_);
            request_timeout();
            co_await flush();
        } else {
            SPDLOG_LOGGER_DEBUG(&logger(), "{}: closing: {}", client_, ec.message());
        }
        error_code ignored;
        socket_.close(ignored);
        co_return false;
    }

    void request_timeout() {
        Response r = Response::text("Request Timeout", Status::request_timeout);
        HeadOptions options{worker_.app.server_header, worker_.date.now(), true};
        write_head(out_, r, options);
        out_.append(r.body());
    }

    /// After an error answer: stop sending, then read and drop what the client still sends
    /// for a moment, so that closing does not reset the connection before it reads the answer.
    asio::awaitable<void> lingering_close() {
        error_code ec;
        socket_.shutdown(tcp::socket::shutdown_send, ec);
        conn_.phase = Connection::Phase::closing;
        conn_.set_deadline(Clock::now() + std::chrono::seconds(2));
        std::size_t drained = 0;
        while (!ec && drained < limits_.max_body_bytes + limits_.max_header_bytes) {
            in_.consume(in_.size());
            auto [read_ec, n] = co_await socket_.async_read_some(in_.prepare(read_size), use_tuple);
            ec = read_ec;
            drained += n;
        }
        socket_.close(ec);
    }

    static constexpr std::size_t read_size = 16 * 1024;

    Worker& worker_;
    tcp::socket socket_;
    const Limits& limits_;
    Connection conn_;
    std::string client_;
    boost::beast::flat_buffer in_;
    /// Where an idle connection's next request starts (see read_more). Small: it is paid by
    /// every open connection; a longer request continues in `in_`.
    std::array<char, 256> first_bytes_;
    std::string out_;
    RequestStorage storage_;
    Request request_;
    MatchScratch scratch_;
    ComponentScope components_;
    std::optional<RequestParser> parser_;
    bool body_deadline_set_ = false;
    bool upgraded_ = false;
    std::size_t header_bytes_ = 0;

    /// Finds header lines that start with whitespace (obs-fold, RFC 9112 5.2; whitespace
    /// before the first field, 2.2) in the header bytes as they are consumed, across calls.
    struct HeaderScan {
        bool after_lf = false;
        bool done = false;  // the empty line ending the header was seen

        bool folded(std::string_view bytes) noexcept {
            std::size_t i = 0;
            while (!done && i < bytes.size()) {
                if (after_lf) {
                    const char c = bytes[i];
                    if (c == ' ' || c == '\t') {
                        return true;
                    }
                    done = c == '\r' || c == '\n';
                    after_lf = false;
                    continue;
                }
                const auto lf = bytes.find('\n', i);  // memchr
                if (lf == std::string_view::npos) {
                    break;
                }
                after_lf = true;
                i = lf + 1;
            }
            return false;
        }
    };
    HeaderScan header_scan_;
};

}  // namespace

asio::awaitable<void> run_http_session(Worker& worker, tcp::socket socket) {
    try {
        HttpSession session(worker, std::move(socket));
        co_await session.run();
    } catch (const std::exception& e) {
        logger().error("connection failed: {}", e.what());
    } catch (...) {
        logger().error("connection failed: a non-standard exception");
    }
}

}  // namespace flamecpp::detail
