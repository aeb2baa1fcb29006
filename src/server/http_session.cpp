// The HTTP/1.1 connection loop: read, parse every complete request in the buffer, answer each
// in order into one output buffer, write once, repeat. Beast's basic_parser does the parsing;
// its callbacks copy what the request needs into per-connection storage that is reused, so
// a warmed-up connection does not allocate per request.

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <exception>
#include <optional>
#include <string>
#include <system_error>
#include <variant>

#include <boost/asio/buffer.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <unistd.h>

#include <flamecpp/body_reader.hpp>
#include <flamecpp/forms.hpp>
#include <flamecpp/http_exception.hpp>

#include "app/app_impl.hpp"
#include "app/components.hpp"
#include "app/exceptions.hpp"
#include "app/pipeline.hpp"
#include "http/files.hpp"
#include "http/request_builder.hpp"
#include "http/request_parser.hpp"
#include "log.hpp"
#include "server/websocket_session.hpp"
#include "server/worker.hpp"
#include "text/ascii.hpp"

namespace flamecpp::detail {
namespace asio = boost::asio;
namespace http = boost::beast::http;
using asio::ip::tcp;
using boost::system::error_code;
using namespace boost::asio::experimental::awaitable_operators;

namespace {

/// Writes each chunk of a streamed body straight to the socket (RFC 9112 7.1).
class ChunkWriter final : public BodyWriter {
public:
    explicit ChunkWriter(Transport& transport) : transport_(transport) {}

    Task<void> write(std::string_view data) override {
        if (failed_) {
            throw std::system_error(std::make_error_code(std::errc::broken_pipe),
                                    "client went away during a streamed response");
        }
        if (data.empty()) {
            co_return;
        }
        char size_line[20];
        int n = std::snprintf(size_line, sizeof(size_line), "%zx\r\n", data.size());
        std::array<asio::const_buffer, 3> buffers{asio::buffer(size_line, std::size_t(n)),
                                                  asio::buffer(data.data(), data.size()),
                                                  asio::buffer("\r\n", 2)};
        writing_ = true;
        auto [ec, written] = co_await transport_.write(buffers);
        writing_ = false;
        (void)written;
        if (ec) {
            failed_ = true;
            throw std::system_error(ec, "client went away during a streamed response");
        }
    }

    bool failed() const noexcept { return failed_; }
    /// A write was cancelled part way (the shutdown came while the socket was full): the
    /// stream cannot be ended cleanly.
    bool interrupted() const noexcept { return writing_; }

private:
    Transport& transport_;
    bool failed_ = false;
    bool writing_ = false;
};

class HttpSession final : private ErrorLog {
public:
    HttpSession(Worker& worker, tcp::socket socket)
        : worker_(worker),
          transport_(std::move(socket)),
          limits_(worker.app.limits),
          components_(worker.app.components) {
        conn_.transport = &transport_;
        client_ = transport_.peer();
        RequestBuilder(request_).set_client(client_);
        RequestBuilder(request_).set_app(worker_.app.self);
        worker_.attach(conn_);  // last: a constructor that throws leaves no entry behind
    }

    ~HttpSession() {
        worker_.give_back(in_);
        worker_.detach(conn_);
    }

    asio::awaitable<void> run() {
        if (worker_.tls && !co_await accept_tls()) {
            co_return;
        }
        for (;;) {
            bool close_after = false;
            std::size_t answered = 0;
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
                ++answered;
                const Started started = start_request();
                auto rest = answer_now(started, close_after);
                if (rest.valid()) {
                    co_await std::move(rest);
                    if (upgraded_) {
                        co_return;  // the socket went to the WebSocket session
                    }
                }
            }
            std::size_t sent = 0;
            if (!out_.empty()) {
                if (flush_now(sent)) {
                    start_background();
                    if (!close_after) {
                        co_await worker_.after_queued_work();
                    }
                } else {
                    bool ok = co_await flush(sent);
                    start_background();
                    if (!ok) {
                        co_return;
                    }
                }
            }
            start_background();  // after a streamed response, written already
            // A client that sent several requests at once keeps its buffers between batches
            // (see begin_read). A partial request left over says nothing: the batch goes on.
            if (answered != 0) {
                pipelining_ = answered > 1;
            }
            if (close_after) {
                if (complete_close_) {
                    // The client has every answer, complete: nothing to linger for.
                    transport_.shutdown_and_close();
                } else {
                    co_await lingering_close();
                }
                co_return;
            }
            // The read is awaited here, not in a coroutine of its own: an idle keep-alive
            // connection then holds no frame but this one and the read's.
            const Read read = begin_read();
            if (read == Read::stop) {
                co_return;
            }
            error_code ec;
            std::size_t n = 0;
            const auto into = read == Read::idle ? asio::buffer(first_bytes_)
                                                 : asio::mutable_buffer(in_.prepare(read_size));
            if (!transport_.is_tls()) [[likely]] {
                auto op = transport_.read_some_plain(into);
                auto [read_ec, read_n] = co_await std::move(op);
                ec = read_ec;
                n = read_n;
            } else {
                auto [read_ec, read_n] = co_await transport_.read_some(into);
                ec = read_ec;
                n = read_n;
            }
            if (!end_read(read, ec, n)) {
                co_await read_failed(ec);
                co_return;
            }
        }
    }

private:
    enum class Step { need_more, request, error };

    /// The TLS handshake, before the first request. The idle timeout runs until the first
    /// byte, then the handshake's own. Plain HTTP gets a plain-text 400; anything else that
    /// is not a TLS handshake is closed at once. False: the connection is closed.
    asio::awaitable<bool> accept_tls() {
        const auto context = worker_.tls;  // a reload meanwhile does not change this one
        transport_.start_tls(std::make_shared<TlsStream>(context));
        TlsStream& tls = transport_.tls();
        conn_.phase = Connection::Phase::idle;
        conn_.set_deadline(Clock::now() + limits_.idle_timeout);
        auto hello = tls.read_hello(transport_.socket());
        auto [ec, kind] = co_await std::move(hello);
        if (ec) {
            transport_.close();
            co_return false;
        }
        conn_.phase = Connection::Phase::reading;
        conn_.set_deadline(Clock::now() + context->handshake_timeout());
        if (kind == TlsStream::Hello::plain_http) {
            SPDLOG_LOGGER_DEBUG(&logger(), "{}: plain HTTP on the TLS port: 400", client_);
            conn_.phase = Connection::Phase::closing;
            conn_.set_deadline(Clock::now() + std::chrono::seconds(2));
            auto refusal = tls.refuse_plain_http(transport_.socket());
            co_await std::move(refusal);
            transport_.close();
            co_return false;
        }
        if (kind == TlsStream::Hello::garbage) {
            SPDLOG_LOGGER_DEBUG(&logger(), "{}: not a TLS handshake: closed", client_);
            transport_.close();
            co_return false;
        }
        auto shake = tls.handshake(transport_.socket());
        const error_code shake_ec = co_await std::move(shake);
        if (shake_ec) {
            SPDLOG_LOGGER_DEBUG(&logger(), "{}: TLS handshake failed: {}", client_,
                                conn_.timed_out ? "timed out" : shake_ec.message());
            transport_.close();
            co_return false;
        }
        conn_.phase = Connection::Phase::idle;
        conn_.set_deadline(Clock::now() + limits_.idle_timeout);
        co_return true;
    }

    Step parse() {
        if (in_.size() == 0) {
            return Step::need_more;
        }
        if (!parser_) {
            parser_.emplace(request_, storage_, limits_);
            continue_sent_ = false;
        }
        for (;;) {
            error_code ec;
            const bool had_header = parser_->is_header_done();
            const auto used = parser_->feed(
                std::string_view(static_cast<const char*>(in_.data().data()), in_.size()), ec);
            in_.consume(used);
            if (!had_header && !ec && parser_->body_follows()) {
                // The header is in and a body follows: its route decides the body's limit,
                // and whether the handler reads it as it arrives.
                if (!route_body()) {
                    return Step::error;
                }
                if (streaming_) {
                    return Step::request;
                }
            }
            if (is_need_more(ec) && used == 0 && parser_->is_header_done() &&
                in_.size() > limits_.max_header_bytes) {
                ec = http::error::bad_chunk;  // a chunk line or trailer without end: 400
            }
            if (is_need_more(ec)) {
                expect_body();
                return Step::need_more;
            }
            if (ec) {
                SPDLOG_LOGGER_DEBUG(&logger(), "{}: bad request: {}", client_, ec.message());
                queue_error(parser_->status(ec));
                parser_.reset();
                return Step::error;
            }
            if (parser_->is_done()) {
                return Step::request;
            }
            if (used == 0 || in_.size() == 0) {
                expect_body();
                return Step::need_more;
            }
        }
    }

    /// The route of a request whose header is in and whose body follows (kept for handle()):
    /// sets the body's limit, refuses a declared length over it (413, false), and marks the
    /// body as streamed when the handler reads it itself (BodyUse).
    [[gnu::noinline]] bool route_body() {
        const bool upgrade = parser_->upgrade() && is_websocket_upgrade(request_);
        early_match_ = match_route(upgrade);
        matched_early_ = true;
        const Route* route =
            early_match_.status == MatchStatus::found ? early_match_.route : nullptr;
        std::uint64_t limit = limits_.max_body_bytes;
        if (route != nullptr && route->max_body_bytes) {
            limit = *route->max_body_bytes;
        }
        parser_->set_body_limit(limit);
        if (const auto length = parser_->content_length(); length && *length > limit) {
            SPDLOG_LOGGER_DEBUG(&logger(), "{}: body of {} bytes over the limit", client_, *length);
            queue_error(Status::payload_too_large);
            parser_.reset();
            matched_early_ = false;
            return false;
        }
        streaming_ = route != nullptr && route->reads_body && route->handler != nullptr &&
                     route->handler->body_use(request_.method()) != BodyUse::none;
        if (streaming_) {
            parser_->set_streamed();
        }
        return true;
    }

    MatchResult match_route(bool upgrade) {
        return worker_.app.router.match(request_.method(), request_.raw_path(), scratch_,
                                        RequestBuilder(request_).path_params(),
                                        upgrade ? RouteKind::websocket : RouteKind::http);
    }

    /// The body of a route that reads it (BodyReader&, a form): handed out as it arrives
    /// when streamed, else the whole body read before the call, once.
    class SessionBody final : public BodySource {
    public:
        explicit SessionBody(HttpSession& session) noexcept : session_(session) {}
        Task<std::optional<std::string_view>> next() override { return session_.next_body_chunk(); }
        std::uint64_t received() const noexcept override { return session_.body_read_; }
        std::optional<std::uint64_t> length() const noexcept override {
            if (!session_.streaming_) {
                return session_.request_.body().size();
            }
            if (session_.parser_) {
                if (auto length = session_.parser_->content_length()) {
                    return *length;
                }
            }
            return std::nullopt;
        }

    private:
        HttpSession& session_;
    };

    asio::awaitable<std::optional<std::string_view>> next_body_chunk() {
        if (!body_open_) {
            // A BodyReader kept past its handler (a stream producer, a background task) must
            // not read the next request's bytes.
            throw std::logic_error(
                "flamecpp: BodyReader::read() after the handler returned; read the body in the "
                "handler itself");
        }
        if (!streaming_) {
            if (whole_body_given_ || request_.body().empty()) {
                co_return std::nullopt;
            }
            whole_body_given_ = true;
            body_read_ = request_.body().size();
            co_return request_.body();
        }
        storage_.body.clear();  // the previous chunk
        for (;;) {
            if (body_failed_) {
                throw HTTPException(Status::bad_request, "the request body could not be read");
            }
            if (!parser_ || parser_->is_done()) {
                co_return std::nullopt;
            }
            if (in_.size() != 0) {
                error_code ec;
                const auto used = parser_->feed(
                    std::string_view(static_cast<const char*>(in_.data().data()), in_.size()), ec);
                in_.consume(used);
                if (is_need_more(ec) && used == 0 && in_.size() > limits_.max_header_bytes) {
                    ec = http::error::bad_chunk;  // a chunk line or trailer without end
                }
                if (ec && !is_need_more(ec)) {
                    body_failed_ = true;
                    const Status status = parser_->status(ec);
                    if (status == Status::payload_too_large) {
                        throw HTTPException(status, "the request body is larger than " +
                                                        std::to_string(parser_->max_body()) +
                                                        " bytes");
                    }
                    throw HTTPException(status, "the request body's chunked framing is malformed");
                }
                const bool progressed = used != 0 && !ec && in_.size() != 0;
                if (progressed && !parser_->is_done() && storage_.body.size() < read_size) {
                    continue;  // a chunk header, or more chunks: a read's worth at a time
                }
                if (!storage_.body.empty()) {
                    body_read_ += storage_.body.size();
                    co_return std::string_view(storage_.body);
                }
                if (parser_->is_done()) {
                    co_return std::nullopt;
                }
                if (progressed) {
                    continue;
                }
            }
            expect_body();  // the 100 Continue the client may wait for, once
            if (!out_.empty()) {
                bool flushed = co_await flush();
                if (!flushed) {
                    body_failed_ = true;
                    throw HTTPException(Status::bad_request, "the client went away");
                }
            }
            // Each read of a streamed body waits at most body_timeout: a client that keeps
            // sending may take its time, one that stalls is dropped.
            conn_.phase = Connection::Phase::reading;
            conn_.set_deadline(Clock::now() + limits_.body_timeout);
            auto [ec, n] = co_await transport_.read_some(in_.prepare(read_size));
            in_.commit(n);
            conn_.phase = Connection::Phase::busy;
            conn_.set_deadline(Clock::time_point::max());
            if (ec) {
                body_failed_ = true;
                if (conn_.timed_out) {
                    throw HTTPException(Status::request_timeout,
                                        "the request body did not arrive in time");
                }
                if (ec != asio::error::operation_aborted) {
                    peer_done_ = true;
                }
                throw HTTPException(Status::bad_request, "the request body ended early");
            }
        }
    }

    /// Reads the form of a handler taking FormData or Form<T> into `form_`.
    asio::awaitable<void> load_form() {
        // Named first: GCC 12 mishandles non-trivial temporaries inside co_await operands.
        FormData form = co_await read_form_body(body_reader_, request_, limits_);
        form_.emplace(std::move(form));
    }

    /// After the answer to a request whose body the handler read: true when some of it was
    /// left unread (or could not be read), and the connection must close.
    [[gnu::noinline]] bool end_body() {
        const bool left = streaming_ && (!parser_ || !parser_->is_done() || body_failed_);
        if (streaming_) {
            parser_.reset();
            storage_.body.clear();
        }
        streaming_ = false;
        body_open_ = false;
        body_failed_ = false;
        whole_body_given_ = false;
        body_read_ = 0;
        form_.reset();
        return left;
    }

    /// RFC 9110 10.1.1: a client that sent `Expect: 100-continue` waits for a 100 (or the
    /// final answer) before its body. Queued behind the answers to earlier requests, and
    /// sent with them before the next read.
    void expect_body() {
        if (!continue_sent_ && parser_->is_header_done() && parser_->expects_continue()) {
            out_ += "HTTP/1.1 100 Continue\r\n\r\n";
            continue_sent_ = true;
        }
    }

    /// The one way the server answers on its own before closing (a refused request, a header
    /// that did not arrive in time): the status and its reason phrase, then close.
    /// `parsed`: request_ holds the request being refused.
    void queue_error(Status status, bool parsed = false) {
        Response r = Response::text(std::string(reason_phrase(status)), status);
        write_response_head(r, /*close=*/true);
        out_.append(r.body());
        log_access_line(status, r.body().size(), parsed);
    }

    /// The handler's answer cannot be written (headers that would break framing, logged by
    /// write_response_head): a 500 takes its place.
    void replace_with_500(Response& response, bool close) {
        response = Response::text("Internal Server Error", Status::internal_server_error);
        write_response_head(response, close);
    }

    /// The end of the middleware pipeline: the route's answer, the app's own, or for a
    /// WebSocket upgrade a 101 that the session then carries out.
    class RouteEnd final : public PipelineEnd {
    public:
        RouteEnd(HttpSession& session, const MatchResult& match, bool upgrade) noexcept
            : session_(session), match_(match), upgrade_(upgrade) {}

        Task<Response> respond() override {
            Response response;
            if (match_.status != MatchStatus::found) {
                response = session_.unrouted(match_, upgrade_);
                if (session_.has_status_handler(response.status())) {
                    co_return co_await session_.answer_with_status_handler(std::move(response));
                }
                co_return response;
            }
            if (upgrade_) {
                // A handshake that cannot succeed is refused here, so the refusal passes the
                // middleware too.
                if (auto refusal = check_handshake(session_.request_)) {
                    co_return std::move(*refusal);
                }
                co_return Response::empty(Status::switching_protocols);
            }
            co_await session_.call_handler(*match_.route, response);
            co_return response;
        }

    private:
        HttpSession& session_;
        const MatchResult& match_;
        bool upgrade_;
    };

    /// The app's answer when no route serves the request: a redirect to the same path with or
    /// without its trailing slash when that one has a route (GET and HEAD, as Starlette's
    /// redirect_slashes), else the router's 400/404/405/OPTIONS answer.
    Response unrouted(const MatchResult& match, bool upgrade) {
        const std::string_view path = request_.raw_path();
        if (match.status == MatchStatus::not_found && !upgrade && worker_.app.redirect_slashes &&
            (request_.method() == Method::get || request_.method() == Method::head) &&
            path.size() > 1) {
            std::string other(path.ends_with('/') ? path.substr(0, path.size() - 1) : path);
            if (!path.ends_with('/')) {
                other += '/';
            }
            // "//host" would leave the site (a protocol-relative URL), and browsers read "/\"
            // as "//": never an answer.
            if (other.size() > 1 && (other[1] == '/' || other[1] == '\\')) {
                return unrouted_answer(match, request_.method(), upgrade);
            }
            std::vector<PathParam> params;
            MatchScratch scratch;
            if (worker_.app.router.match(Method::get, other, scratch, params).status ==
                MatchStatus::found) {
                if (!request_.query_string().empty()) {
                    other += '?';
                    other += request_.query_string();
                }
                return Response::redirect(std::move(other), Status::temporary_redirect);
            }
        }
        return unrouted_answer(match, request_.method(), upgrade);
    }

    /// The answer through the app's middleware. A middleware that throws is a 500, as a
    /// handler's exception is (the answer then skips the layers it would have passed).
    asio::awaitable<Response> through_middleware(const MatchResult& match,
                                                 bool upgrade,
                                                 const Mount* mount) {
        CallContext ctx(request_);
        ctx.app = worker_.app.self;
        ctx.components = &components_;
        RouteEnd end(*this, match, upgrade);
        Pipeline pipeline(worker_.app.middleware,
                          mount != nullptr ? std::span<const Middleware* const>(mount->layers)
                                           : std::span<const Middleware* const>(),
                          ctx, end);
        std::exception_ptr failure;
        try {
            co_return co_await pipeline.run();
        } catch (...) {
            failure = std::current_exception();
        }
        co_return co_await answer_failure(failure, "a middleware");
    }

    /// ErrorLog: logs an exception no exception handler took and reports it to the server.
    void unhandled(std::string_view who, const std::exception_ptr& failure) noexcept override {
        try {
            std::rethrow_exception(failure);
        } catch (const std::exception& e) {
            logger().error("{} of route '{}' ({} {}) threw: {}", who, request_.route(),
                           request_.method_name(), request_.target(), e.what());
        } catch (...) {
            logger().error("{} of route '{}' ({} {}) threw a non-standard exception", who,
                           request_.route(), request_.method_name(), request_.target());
        }
        worker_.handler_failed(failure);
    }

    /// The answer for an exception a handler or a middleware let escape: an exception
    /// handler's, or the default (src/app/exceptions.hpp).
    asio::awaitable<Response> answer_failure(std::exception_ptr failure, std::string_view who) {
        CallContext ctx(request_);
        ctx.app = worker_.app.self;
        ctx.components = &components_;
        co_return co_await answer_exception(handler_chain(), ctx, std::move(failure), who, *this);
    }

    /// The exception handler sets of this request: its mount's chain when a router under it
    /// has handlers, else the app's alone.
    HandlerChain handler_chain() const noexcept {
        if (mount_ != nullptr && !mount_->handler_chain.empty()) {
            return mount_->handler_chain;
        }
        return worker_.app.handler_chain;
    }

    asio::awaitable<void> answer_failure_into(std::exception_ptr failure, Response& out) {
        out = co_await answer_failure(std::move(failure), "handler");
    }

    bool has_status_handler(Status status) const noexcept {
        return chain_handles_status(handler_chain(), status);
    }

    /// The app's own error answer (404, 405, ...) made by the handler for its status instead.
    asio::awaitable<Response> answer_with_status_handler(Response own) {
        co_return co_await answer_failure(as_exception(std::move(own)), "the router");
    }

    /// What the start of a request leaves for its answer.
    struct Started {
        bool keep_alive = true;
        bool upgrade = false;  ///< a WebSocket upgrade was asked for
        bool head_only = false;
    };

    /// The part of every request that never waits: the connection turns busy, the parser
    /// gives up what it knows, and the route (and the mount) is found.
    Started start_request() {
        conn_.phase = Connection::Phase::busy;
        conn_.fresh = false;
        conn_.set_deadline(Clock::time_point::max());
        Started started;
        started.keep_alive = request_.keep_alive();  // the parser's, set with the header
        // Beast already knows whether Connection and Upgrade ask for an upgrade: only then
        // are the headers scanned for "websocket".
        const bool upgrade_asked = parser_->upgrade();
        if (!streaming_) {
            parser_.reset();  // a streamed body is read with it while the handler runs
        }
        RequestBuilder builder(request_);
        // What a middleware may have changed for the previous request.
        builder.set_client(client_);
        builder.set_scheme(transport_.is_tls() ? "https" : "http");
        builder.clear_session();
        started.head_only = request_.method() == Method::head;
        started.upgrade = upgrade_asked && is_websocket_upgrade(request_);
        // Matched already when a body followed the header (to find the body's limit).
        if (!matched_early_) {
            early_match_ = match_route(started.upgrade);
        }
        matched_early_ = false;
        const MatchResult& match = early_match_;
        if (match.status == MatchStatus::found) {
            builder.set_route(match.route->pattern);
        }
        // The mount whose middleware the answer passes: the route's, or for a path no route
        // serves, the innermost mount holding it.
        const Router& router = worker_.app.router;
        mount_ = match.status == MatchStatus::found ? match.route->mount
                 : router.has_mounts()              ? router.mount_for(request_.raw_path())
                                                    : nullptr;
        return started;
    }

    /// Answers a started request without a coroutine frame when nothing on the way waits:
    /// no middleware, and a plain-function handler needing no factory component nor the
    /// body, or no route and no handler for the app's own answer. Anything else comes back
    /// as the awaitable that finishes it (invalid: answered). Most requests never allocate
    /// a frame here.
    asio::awaitable<void> answer_now(Started started, bool& close_after) {
        if (started.upgrade || !worker_.app.middleware.empty() ||
            (mount_ != nullptr && !mount_->layers.empty())) {
            return handle(started, close_after);
        }
        const MatchResult& match = early_match_;
        Response response;
        if (match.status == MatchStatus::found) {
            const Route& route = *match.route;
            if (route.needs_components || route.reads_body) {
                return handle(started, close_after);
            }
            CallContext ctx(request_);
            ctx.app = worker_.app.self;
            ctx.components = &components_;
            std::exception_ptr failure;
            try {
                if (!route.handler->call_sync(ctx, response)) {
                    return handle(started, close_after);  // nothing called yet
                }
            } catch (...) {
                failure = answer_or_keep(std::current_exception(), response);
            }
            if (failure) {
                return finish_later(std::move(response), std::move(failure), started, close_after);
            }
            components_.clear();
            if (response.is_file()) {
                // As call_handler() does: the 206 or the 304 is decided here.
                resolve_file_response(response, request_);
            }
        } else {
            response = unrouted(match, started.upgrade);
            if (has_status_handler(response.status())) {
                return handle(started, close_after);
            }
        }
        if (!end_request(response, started, close_after)) {
            return finish_later(std::move(response), nullptr, started, close_after);
        }
        return {};
    }

    /// A handler's exception: an HTTPException is answered at once into `response` when no
    /// exception handler could want it; otherwise it is given back, for the handlers.
    std::exception_ptr answer_or_keep(std::exception_ptr failure, Response& response) {
        try {
            std::rethrow_exception(failure);
        } catch (const HTTPException& e) {
            if (worker_.app.exception_handlers.empty() &&
                (mount_ == nullptr || mount_->handler_chain.empty())) {
                response = default_answer(e);
                return nullptr;
            }
        } catch (...) {
        }
        return failure;
    }

    /// The rest of an answer begun by answer_now(): the exception handlers for a failure,
    /// then a streamed body or a file.
    asio::awaitable<void> finish_later(Response response,
                                       std::exception_ptr failure,
                                       Started started,
                                       bool& close_after) {
        if (failure) {
            co_await answer_failure_into(std::move(failure), response);
            components_.clear();  // what the exception handlers made, as handle() does
            if (end_request(response, started, close_after)) {
                co_return;
            }
        }
        co_await send_body(response, started, close_after);
    }

    /// A request answered through what may wait: middleware, coroutine handlers, factory
    /// components, bodies, WebSocket upgrades and status handlers.
    asio::awaitable<void> handle(Started started, bool& close_after) {
        Response response;
        const bool upgrade = started.upgrade;
        const MatchResult& match = early_match_;
        const Mount* mount = mount_;
        if (!worker_.app.middleware.empty() || (mount != nullptr && !mount->layers.empty())) {
            // Every answer passes through the middleware, routed or not; an upgrade goes on
            // only if the pipeline gives back the 101 its end made.
            response = co_await through_middleware(match, upgrade, mount);
            if (upgrade && match.status == MatchStatus::found &&
                response.status() == Status::switching_protocols) {
                components_.clear();
                co_await upgrade_to_websocket(*match.route, response.headers());
                co_return;
            }
            components_.clear();
        } else if (upgrade && match.status == MatchStatus::found) {
            co_await upgrade_to_websocket(*match.route, {});
            co_return;
        } else if (match.status == MatchStatus::found) {
            co_await call_handler(*match.route, response);
            components_.clear();
        } else {
            response = unrouted(match, upgrade);
            if (has_status_handler(response.status())) {
                response = co_await answer_with_status_handler(std::move(response));
                components_.clear();  // the status handler's, made for this request only
            }
        }
        if (!end_request(response, started, close_after)) {
            co_await send_body(response, started, close_after);
        }
    }

    /// Ends a request whose answer is made: decides whether the connection closes and, for
    /// an answer in memory, appends it to the output. False: a stream or a file, for
    /// send_body().
    bool end_request(Response& response, Started started, bool& close_after) {
        // Out of line: only requests whose handler read the body have anything to end.
        const bool body_left = (body_open_ || streaming_) && end_body();
        close_after = !started.keep_alive || worker_.draining || body_left;
        if (response.is_stream()) {
            return false;
        }
        if (response.is_file() && (resolve_file_response(response, request_), response.is_file())) {
            // Resolved here when middleware or an exception handler made it; a 412 or 416
            // is no file any more and goes the ordinary way.
            return false;
        }
        if (!write_response_head(response, close_after)) {
            replace_with_500(response, close_after);
        }
        if (!started.head_only && !status_forbids_body(response.status())) {
            out_.append(response.body());
        }
        log_access_line(response.status(), response.body().size(), true);
        end_answer(response);
        return true;
    }

    asio::awaitable<void> send_body(Response& response, Started started, bool& close_after) {
        if (response.is_stream()) {
            co_await send_stream(response, close_after, started.head_only);
        } else {
            co_await send_file(response, close_after, started.head_only);
        }
        end_answer(response);
    }

    void end_answer(Response& response) {
        if (response.has_background()) {
            for (auto& task : response.take_background()) {
                background_.push_back(std::move(task));
            }
        }
        conn_.phase = Connection::Phase::idle;  // between requests
    }

    /// Starts the background tasks of the responses just written, as tasks the worker owns
    /// and the shutdown lets finish.
    void start_background() {
        if (background_.empty()) {
            return;
        }
        for (auto& task : background_) {
            worker_.spawn(std::move(task), /*finish_on_shutdown=*/true);
        }
        background_.clear();
    }

    /// Hands the socket to a WebSocket route. Responses to earlier pipelined requests go out
    /// first; bytes after the upgrade request (a client may not send frames before the 101,
    /// RFC 6455 4.1) make it a bad request.
    asio::awaitable<void> upgrade_to_websocket(const Route& route, HeaderList headers) {
        if (in_.size() != 0) {
            queue_error(Status::bad_request, /*parsed=*/true);
            co_await flush();
            co_await lingering_close();
            upgraded_ = true;
            co_return;
        }
        upgraded_ = true;
        if (!out_.empty()) {
            // GCC 12 miscompiles co_await inside && (SIGILL): keep awaits in statements.
            bool flushed = co_await flush();
            start_background();  // of the pipelined answers just written
            if (!flushed) {
                co_return;
            }
        }
        log_access_line(Status::switching_protocols, 0, true);
        auto websocket = run_websocket_session(worker_, std::move(transport_), request_, route,
                                               conn_, std::move(headers));
        co_await std::move(websocket);
    }

    asio::awaitable<void> call_handler(const Route& route, Response& response) {
        std::exception_ptr failure;
        CallContext ctx(request_);
        ctx.app = worker_.app.self;
        ctx.components = &components_;
        try {
            if (route.needs_components && !prepare_components_now(ctx, route.components)) {
                co_await prepare_components(ctx, route.components);
            }
            if (route.reads_body) {
                const BodyUse use = route.handler->body_use(request_.method());
                if (use != BodyUse::none) {
                    ctx.body = &body_reader_;
                    body_open_ = true;
                }
                if (use == BodyUse::form) {
                    co_await load_form();
                    ctx.form = &*form_;
                }
            }
            if (!route.handler->call_sync(ctx, response)) {
                co_await route.handler->call_async(ctx, response);
            }
        } catch (...) {
            failure = answer_or_keep(std::current_exception(), response);
        }
        if (response.is_file()) {
            // Before the middleware sees it: GZip must see the 206 or the 304.
            resolve_file_response(response, request_);
        }
        if (failure) {
            // Into `response`, not returned: a Response-valued await would grow this frame,
            // which every request allocates, for the sake of the rare failure.
            co_await answer_failure_into(std::move(failure), response);
        }
    }

    /// Appends the response head; false (and nothing appended) when the handler produced
    /// headers that would break framing, which is logged as a handler error.
    bool write_response_head(const Response& response, bool close) {
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

    /// Lets the shutdown end a streamed answer: the producer is cancelled, the stream ended.
    class StreamOwner final : public ConnectionOwner {
    public:
        explicit StreamOwner(asio::steady_timer& stop) noexcept : stop_(stop) {}
        void deadline_passed() override {}
        // Expired rather than cancelled: a cancel reaches only a wait already started, and
        // the watch may not have started yet.
        void shutting_down() override { stop_.expires_at(asio::steady_timer::time_point::min()); }
        void abandoned() override {}

    private:
        asio::steady_timer& stop_;
    };

    enum class StreamEnd { finished, failed, client_left, shutdown };

    asio::awaitable<void> send_stream(Response& response, bool& close_after, bool head_only) {
        if (!write_response_head(response, close_after)) {
            replace_with_500(response, close_after);
            if (!head_only) {
                out_.append(response.body());
            }
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
        // The producer runs against a watch on the connection: a client that leaves while
        // the producer waits (for a timer, a message) is noticed at once, and so is the
        // shutdown; either cancels the producer where it waits.
        asio::steady_timer stop(transport_.get_executor(), asio::steady_timer::time_point::max());
        StreamOwner owner(stop);
        conn_.owner = &owner;
        if (worker_.draining) {
            // The shutdown has begun (it visited the connections while the head was being
            // written). Expire the timer: a cancel now would be lost, since nothing waits on
            // it yet, and the stream would hold the shutdown for its whole grace period.
            stop.expires_at(asio::steady_timer::time_point::min());
        }
        ChunkWriter writer(transport_);
        std::exception_ptr failure;
        auto ended =
            co_await (produce(response.stream_body(), writer, failure) || watch_client(stop));
        conn_.owner = nullptr;
        StreamEnd end = StreamEnd::finished;
        if (ended.index() == 0) {
            end = failure ? StreamEnd::failed : StreamEnd::finished;
        } else {
            end = std::get<1>(ended);
        }
        if (end == StreamEnd::failed && !writer.failed()) {
            // The head is gone already: the only honest signal left is to cut the connection
            // without the final chunk, so the client sees an incomplete body.
            try {
                std::rethrow_exception(failure);
            } catch (const std::exception& e) {
                logger().error("streamed body of route '{}' threw: {}", request_.route(), e.what());
            } catch (...) {
                logger().error("streamed body of route '{}' threw a non-standard exception",
                               request_.route());
            }
            worker_.handler_failed(failure);
        }
        // The last chunk says the body is complete: only when it is. An event stream may end
        // anywhere between events (a client reconnects and resumes); any other body cut by
        // the shutdown (a file being compressed, a report) is incomplete, and a client must
        // not take it for whole.
        const bool clean = !writer.failed() && !writer.interrupted();
        const bool events = response.content_type().starts_with("text/event-stream");
        if (clean && (end == StreamEnd::finished || (end == StreamEnd::shutdown && events))) {
            out_.append("0\r\n\r\n");
            if (end == StreamEnd::shutdown) {
                close_after = true;
                complete_close_ = true;
            }
            co_return;
        }
        SPDLOG_LOGGER_DEBUG(&logger(), "{}: stream of route '{}' ended: {}", client_,
                            request_.route(),
                            end == StreamEnd::client_left ? "the client left" : "it failed");
        close_after = true;
        transport_.close();
    }

    /// Runs a streamed body to its end; its exception (the client gone, the producer's own
    /// failure, a cancellation) is kept in `failure`, not thrown.
    asio::awaitable<void> produce(const BodyStream& body,
                                  ChunkWriter& writer,
                                  std::exception_ptr& failure) {
        try {
            co_await body(writer);
        } catch (...) {
            failure = std::current_exception();
        }
    }

    /// Reads the connection while a stream is sent, until the client closes it (or resets
    /// it), or `stop` is cancelled by the shutdown. What the client sends meanwhile (its next
    /// pipelined request) is kept for after the stream, up to a bound; past it the watch
    /// only waits for the shutdown.
    asio::awaitable<StreamEnd> watch_client(asio::steady_timer& stop) {
        auto ended = co_await (read_until_closed() || wait_for_stop(stop));
        co_return ended.index() == 0 ? StreamEnd::client_left : StreamEnd::shutdown;
    }

    asio::awaitable<void> read_until_closed() {
        while (!peer_done_ && in_.size() < read_size * 4) {
            auto [ec, n] = co_await transport_.read_some(in_.prepare(read_size));
            in_.commit(n);
            if (ec) {
                // Remembered: the end of the client's bytes is reported once (Asio's reactor
                // does not report it again), and the requests it sent before may still be
                // waiting in `in_` for their answers.
                if (ec != asio::error::operation_aborted) {
                    peer_done_ = true;
                }
                co_return;
            }
        }
        // Enough is buffered, or the client's input has ended already (while an earlier stream
        // was watched): stop reading, and wait for what ends the stream otherwise.
        asio::steady_timer forever(transport_.get_executor(),
                                   asio::steady_timer::time_point::max());
        auto [ec] = co_await forever.async_wait(asio::as_tuple(asio::use_awaitable));
        (void)ec;
    }

    static asio::awaitable<void> wait_for_stop(asio::steady_timer& stop) {
        auto [ec] = co_await stop.async_wait(asio::as_tuple(asio::use_awaitable));
        (void)ec;
    }

    /// A file answer: small files are read into the output buffer and go out with the head
    /// (one write, as any answer); larger ones go by sendfile(2) after the head.
    asio::awaitable<void> send_file(Response& response, bool& close_after, bool head_only) {
        if (!write_response_head(response, close_after)) {
            replace_with_500(response, close_after);
            if (!head_only) {
                out_.append(response.body());
            }
            co_return;
        }
        FileBody* body = FileAccess::body(response);
        const bool send_body =
            body != nullptr && !head_only && !status_forbids_body(response.status());
        log_access_line(response.status(), send_body ? body->length : 0, true);
        if (!send_body || body->length == 0) {
            co_return;
        }
        if (body->length <= small_file) {
            const std::size_t mark = out_.size();
            const auto length = static_cast<std::size_t>(body->length);
            out_.resize(mark + length);
            std::size_t got = 0;
            while (got < length) {
                const ssize_t n = ::pread(body->fd, out_.data() + mark + got, length - got,
                                          static_cast<off_t>(body->offset + got));
                if (n < 0 && errno == EINTR) {
                    continue;
                }
                if (n <= 0) {
                    break;
                }
                got += static_cast<std::size_t>(n);
            }
            if (got != length) {
                // The file shrank (or failed) after its size was sent: the client must see a
                // short body and a close, not a body padded with zeros.
                logger().error("route '{}': file read failed after its head was written",
                               request_.route());
                out_.resize(mark + got);
                close_after = true;
            }
            co_return;
        }
        // Corked: the head and the file's first bytes leave in full segments, as nginx's
        // tcp_nopush does (measured: about a third more 1 MiB answers a second to wrk).
        transport_.set_cork(true);
        bool flushed = co_await flush();
        if (!flushed) {
            close_after = true;
            co_return;
        }
        auto [ec, sent] = co_await transport_.send_file(body->fd, body->offset, body->length);
        transport_.set_cork(false);
        if (ec) {
            SPDLOG_LOGGER_DEBUG(&logger(), "{}: file send stopped after {} bytes: {}", client_,
                                sent, ec.message());
            close_after = true;
            transport_.close();
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
        } else if (parser_ && parser_->line_version() != 0) {
            // Refused after its request line (a body or header too large, a bad field).
            const unsigned v = parser_->line_version();
            log.info("{} \"{} {} HTTP/{}.{}\" {} {}", client_, parser_->line_method(),
                     parser_->line_target(), v / 10, v % 10, static_cast<unsigned>(status), bytes);
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
        sent = transport_.write_now(asio::buffer(out_), ec);
        if (sent != out_.size() || ec) {  // TLS: all accepted, some ciphertext left
            return false;
        }
        reset_out();
        return true;
    }

    /// Sends `out_` from byte `from` on, waiting for the socket as needed. False: the
    /// connection is gone.
    asio::awaitable<bool> flush(std::size_t from = 0) {
        auto [ec, n] = co_await transport_.write(asio::buffer(out_) + from);
        (void)n;
        reset_out();
        if (ec) {
            SPDLOG_LOGGER_DEBUG(&logger(), "{}: write failed: {}", client_, ec.message());
            co_return false;
        }
        co_return true;
    }

    void reset_out() {
        if (out_.capacity() > std::size_t{64} * 1024) {
            std::string().swap(out_);  // do not keep a large response's buffer forever
        } else {
            out_.clear();
        }
    }

    enum class Read { stop, idle, more };

    /// Before a read: sets the deadline that fits what is pending. `stop`: close now; `idle`:
    /// between requests, the read goes into first_bytes_; `more`: the rest of a request.
    Read begin_read() {
        if (peer_done_) {
            // The client sent all it will (seen while a stream was watched): nothing more
            // can arrive.
            transport_.close();
            return Read::stop;
        }
        const bool partial = parser_.has_value() || in_.size() != 0;
        if (!partial && worker_.draining && !conn_.fresh) {
            return Read::stop;  // a fresh connection still gets its first request answered
        }
        // Between requests and at a request's first byte the clock restarts at the reaper's
        // next sweep: no clock read per request. A request that takes more than one read
        // gets exact deadlines.
        if (!partial && worker_.draining) {
            // Fresh, accepted as the shutdown began: its request gets fresh_grace to arrive.
            conn_.phase = Connection::Phase::idle;
            conn_.set_deadline(std::min(conn_.deadline, Clock::now() + Connection::fresh_grace));
        } else if (!partial) {
            conn_.phase = Connection::Phase::idle;
            conn_.restart_at_next_sweep(limits_.idle_timeout);
        } else if (conn_.phase != Connection::Phase::reading) {
            conn_.phase = Connection::Phase::reading;
            conn_.set_deadline(Clock::now() + limits_.header_timeout);
        } else if (parser_ && parser_->is_header_done() && !body_deadline_set_) {
            conn_.set_deadline(Clock::now() + limits_.body_timeout);
            body_deadline_set_ = true;
        }
        if (partial || pipelining_) {
            // A pipelining client's next batch is read whole, into the buffer it keeps: a
            // batch read through the small buffer takes two reads, and its answers two writes.
            return Read::more;
        }
        // Idle between requests: the read and response buffers go back to the thread's
        // spares and the next request's first bytes land in a small buffer inside the
        // session, so an idle keep-alive connection holds neither. (Not a readiness wait:
        // Asio's reactor is edge-triggered, and a wait started without a read first misses
        // bytes that arrived before it.)
        worker_.give_back(in_);
        worker_.give_back(out_);
        return Read::idle;
    }

    /// After a read of `n` bytes (into first_bytes_ when `idle`). False: it failed, and
    /// read_failed() ends the connection.
    bool end_read(Read read, error_code ec, std::size_t n) {
        if (ec) {
            return false;
        }
        if (read == Read::idle) {
            in_ = worker_.take_buffer();
            out_ = worker_.take_out();
            auto room = in_.prepare(read_size);
            std::memcpy(room.data(), first_bytes_.data(), n);
            in_.commit(n);
            if (n == first_bytes_.size() && !transport_.is_tls()) {
                // The small buffer is full: the rest of the request (or of a pipelined batch)
                // has most likely arrived with it. Taken now, without waiting; an error or
                // nothing here is met again by the next read.
                error_code more_ec;
                const std::size_t more =
                    transport_.socket().read_some(in_.prepare(read_size), more_ec);
                if (!more_ec) {
                    in_.commit(more);
                }
            }
        } else {
            in_.commit(n);
        }
        if (conn_.phase == Connection::Phase::idle) {
            conn_.phase = Connection::Phase::reading;  // first byte: the header clock starts
            conn_.restart_at_next_sweep(limits_.header_timeout);
            body_deadline_set_ = false;
        }
        return true;
    }

    /// A read failed: a header that did not arrive in time gets its 408; then the
    /// connection closes.
    asio::awaitable<void> read_failed(error_code ec) {
        (void)ec;  // logged at debug level only
        if (conn_.timed_out && conn_.phase == Connection::Phase::reading &&
            !(parser_ && parser_->is_header_done())) {
            // RFC 9110 15.5.9: the header did not arrive in time.
            SPDLOG_LOGGER_DEBUG(&logger(), "{}: header timeout", client_);
            queue_error(Status::request_timeout);
            co_await flush();
        } else {
            SPDLOG_LOGGER_DEBUG(&logger(), "{}: closing: {}", client_, ec.message());
        }
        transport_.close();
    }

    /// After an error answer: stop sending, then read and drop what the client still sends
    /// for a moment, so that closing does not reset the connection before it reads the answer.
    asio::awaitable<void> lingering_close() {
        if (peer_done_) {
            transport_.shutdown_and_close();  // nothing left to drain
            co_return;
        }
        transport_.shutdown_send();
        error_code ec;
        conn_.phase = Connection::Phase::closing;
        conn_.set_deadline(Clock::now() + std::chrono::seconds(2));
        std::size_t drained = 0;
        while (!ec && drained < limits_.max_body_bytes + limits_.max_header_bytes) {
            in_.consume(in_.size());
            auto [read_ec, n] = co_await transport_.read_some(in_.prepare(read_size));
            ec = read_ec;
            drained += n;
        }
        transport_.close();
    }

    static constexpr std::size_t read_size = std::size_t{16} * 1024;
    /// Files up to this size are copied into the output buffer: a pread(2) costs less than a
    /// second write, and pipelined answers stay batched.
    static constexpr std::uint64_t small_file = std::uint64_t{32} * 1024;

    Worker& worker_;
    Transport transport_;
    const Limits& limits_;
    Connection conn_;
    std::string client_;
    boost::beast::flat_buffer in_;
    /// Where an idle connection's next request starts (see begin_read). Small: it is paid by
    /// every open connection; a longer request continues in `in_`.
    std::array<char, 256> first_bytes_;
    /// The last batch read held more than one request: the buffers stay between batches.
    bool pipelining_ = false;
    std::string out_;
    std::vector<Task<void>> background_;  ///< of the responses in out_, started once it is sent
    const Mount* mount_ = nullptr;        ///< the mount of the request being handled, if any
    RequestStorage storage_;
    Request request_;
    MatchScratch scratch_;
    ComponentScope components_;
    std::optional<RequestParser> parser_;
    MatchResult early_match_;  ///< see route_body()
    SessionBody body_source_{*this};
    BodyReader body_reader_{body_source_};
    std::optional<FormData> form_;  ///< the form of the request being handled, if read
    std::uint64_t body_read_ = 0;   ///< bytes handed out by body_reader_
    bool matched_early_ = false;
    bool streaming_ = false;         ///< the handler reads the body as it arrives
    bool body_open_ = false;         ///< body_reader_ may be read: its handler runs
    bool body_failed_ = false;       ///< reading the streamed body failed (refused, cut, late)
    bool whole_body_given_ = false;  ///< body_reader_ handed out a body read before the call
    bool body_deadline_set_ = false;
    bool upgraded_ = false;
    bool continue_sent_ = false;   ///< the 100 Continue of the request being parsed went out
    bool complete_close_ = false;  ///< closing after complete answers: no lingering close
    bool peer_done_ = false;       ///< the client's end of input (or an error) was read
};

}  // namespace

asio::awaitable<void> run_http_session(Worker& worker, tcp::socket socket) {
    std::optional<HttpSession> session;
    try {
        session.emplace(worker, std::move(socket));
    } catch (const std::exception& e) {
        worker.session_not_started();  // counted when accepted, never attached
        logger().error("connection failed: {}", e.what());
        co_return;
    }
    try {
        co_await session->run();
    } catch (const std::exception& e) {
        logger().error("connection failed: {}", e.what());
    } catch (...) {
        logger().error("connection failed: a non-standard exception");
    }
}

}  // namespace flamecpp::detail
