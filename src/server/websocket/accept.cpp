// The WebSocket handshake: checks before any handler runs, the 101 answer, a refusal.

#include <algorithm>
#include <stdexcept>

#include <boost/asio/write.hpp>

#include "app/app_impl.hpp"
#include "app/components.hpp"
#include "http/request_builder.hpp"
#include "http/writer.hpp"
#include "log.hpp"
#include "server/websocket/session.hpp"
#include "server/websocket_session.hpp"
#include "text/ascii.hpp"

namespace flamecpp::detail {
namespace {

/// True when the comma-separated `list` holds `token` (case-insensitive).
bool has_token(std::string_view list, std::string_view token) {
    return for_each_list_item(list,
                              [token](std::string_view item) { return iequals(item, token); });
}

}  // namespace

/// RFC 6455 4.2.1: HTTP/1.1, version 13 and a 16-byte base64 key; checked before any user code
/// runs.
std::optional<Response> check_handshake(const Request& request) {
    if (request.version() < 11) {
        return Response::text("Bad Request: a WebSocket handshake needs HTTP/1.1",
                              Status::bad_request);
    }
    auto version = request.header("Sec-WebSocket-Version");
    if (!version || *version != "13") {
        return Response::text("Upgrade Required: WebSocket version 13", Status::upgrade_required)
            .with_header("Sec-WebSocket-Version", "13");
    }
    auto key = request.header("Sec-WebSocket-Key");
    if (!key || !ws::is_valid_key(*key)) {
        return Response::text("Bad Request: missing or malformed Sec-WebSocket-Key",
                              Status::bad_request);
    }
    return std::nullopt;
}

WebSocketSession::WebSocketSession(Worker& worker,
                                   Transport transport,
                                   const Request& request,
                                   Connection& conn)
    : worker_(worker),
      conn_(&conn),
      read_buffer_(std::make_unique_for_overwrite<char[]>(read_buffer_size)),
      mailbox_(worker.mailbox),
      queue_limit_(worker.app.limits.websocket_send_queue_bytes),
      queue_full_(worker.app.limits.websocket_queue_full) {
    transport_.emplace(std::move(transport));
    // Handles may outlive the HTTP session that parsed the request: keep a copy.
    RequestBuilder(request_).copy_from(request, request_storage_);
    if (auto offered = request_.header("Sec-WebSocket-Protocol")) {
        for_each_list_item(*offered, [this](std::string_view item) {
            subprotocols_.emplace_back(item);
            return false;
        });
    }
    conn.transport = &*transport_;
    conn.owner = this;
    conn.phase = Connection::Phase::busy;
    conn.set_deadline(Clock::time_point::max());
}

void WebSocketSession::require_live() const {
    if (finished_.load()) {
        throw WebSocketDisconnect(close_code_.value_or(Code::abnormal), close_reason_);
    }
}

void WebSocketSession::detach() noexcept {
    if (conn_ != nullptr) {
        conn_->owner = nullptr;
        conn_ = nullptr;
    }
}

void WebSocketSession::handler_failed(std::string_view route,
                                      std::exception_ptr error) const noexcept {
    log_websocket_error(route, error);
    worker_.handler_failed(std::move(error));
}

Task<void> WebSocketSession::accept(std::string subprotocol,
                                    std::vector<std::pair<std::string, std::string>> headers) {
    require_live();
    require_owner_thread("accept");
    if (state_ != WebSocket::State::connecting) {
        throw std::logic_error(
            "flamecpp: WebSocket::accept() called on a connection that is "
            "already accepted or closed");
    }
    if (!subprotocol.empty() &&
        std::find(subprotocols_.begin(), subprotocols_.end(), subprotocol) == subprotocols_.end()) {
        throw std::logic_error("flamecpp: WebSocket::accept(\"" + subprotocol +
                               "\"): the client did not offer that subprotocol");
    }
    for (const auto& [name, value] : headers) {
        if (!is_token(name) || value.find_first_of("\r\n") != std::string::npos) {
            throw std::logic_error("flamecpp: WebSocket::accept(): header '" + name +
                                   "' would break the handshake response");
        }
    }
    // RFC 6455 4.2.2. The key was checked before the handler ran.
    std::string out =
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Accept: ";
    out += ws::accept_key(request_.header("Sec-WebSocket-Key").value_or(""));
    out += "\r\n";
    if (!worker_.app.server_header.empty()) {
        out += "Server: ";
        out += worker_.app.server_header;
        out += "\r\n";
    }
    out += "Date: ";  // the contract: every response has a Date
    out += worker_.date.now();
    out += "\r\n";
    if (!subprotocol.empty()) {
        out += "Sec-WebSocket-Protocol: ";
        out += subprotocol;
        out += "\r\n";
    }
    for (const auto& [name, value] : handshake_headers_) {
        out += name;
        out += ": ";
        out += value;
        out += "\r\n";
    }
    for (const auto& [name, value] : headers) {
        out += name;
        out += ": ";
        out += value;
        out += "\r\n";
    }
    out += "\r\n";
    state_ = WebSocket::State::connected;  // a concurrent accept() now fails
    sendable_ = true;
    writing_ = true;  // sends queue until the 101 is out
    {
        WriteGuard guard(this);
        auto [ec, n] = co_await transport_->write(asio::buffer(out));
        (void)n;
        if (ec) {
            lost();
            throw WebSocketDisconnect(Code::abnormal, "handshake failed: " + ec.message());
        }
    }
    restart_idle_clock();
    if (worker_.draining) {
        // Upgraded on a connection the shutdown let finish its first request: it has already
        // visited the connections, so this one goes away (1001) by itself.
        shutting_down();
    }
}

Task<void> WebSocketSession::refuse(Status status, Code code) {
    if (state_ != WebSocket::State::connecting) {
        co_return;
    }
    mark_closed(code);
    Response response = Response::text(std::string(reason_phrase(status)), status);
    for (auto& [name, value] : handshake_headers_) {
        response.with_header(std::move(name), std::move(value));
    }
    std::string out;
    HeadOptions options{worker_.app.server_header, worker_.date.now(), true};
    write_head(out, response, options);
    out += response.body();
    auto [ec, n] = co_await transport_->write(asio::buffer(out));
    (void)ec;
    (void)n;
    transport_->shutdown_and_close();
}

void WebSocketSession::require_owner_thread(const char* what) const {
    if (!on_owner_thread()) {
        throw std::logic_error(std::string("flamecpp: WebSocket ") + what +
                               " must run on the connection's own thread");
    }
}

void WebSocketSession::restart_idle_clock() noexcept {
    if (conn_ != nullptr && !close_sent_) {
        conn_->set_deadline(Clock::now() + quiet_period());
    }
}

bool is_websocket_upgrade(const Request& request) noexcept {
    auto upgrade = request.header("Upgrade");
    auto connection = request.header("Connection");
    return request.method() == Method::get && upgrade && connection &&
           has_token(*upgrade, "websocket") && has_token(*connection, "upgrade");
}

asio::awaitable<void> run_websocket_session(Worker& worker,
                                            Transport transport,
                                            Request& request,
                                            const Route& route,
                                            Connection& conn,
                                            HeaderList headers) {
    if (auto refusal = check_handshake(request)) {
        std::string out;
        HeadOptions options{worker.app.server_header, worker.date.now(), true};
        write_head(out, *refusal, options);
        out += refusal->body();
        auto [ec, n] = co_await transport.write(asio::buffer(out));
        (void)ec;
        (void)n;
        transport.close();
        co_return;
    }
    auto session = std::make_shared<WebSocketSession>(worker, std::move(transport), request, conn);
    session->set_handshake_headers(std::move(headers));
    WebSocket ws(session);
    ComponentScope components(worker.app.components);
    CallContext ctx(session->request(), &ws);
    ctx.app = worker.app.self;
    ctx.components = &components;
    bool ready = true;
    try {
        // Per-request components are made once per connection, before on_connect.
        if (route.needs_components && !prepare_components_now(ctx, route.components)) {
            co_await prepare_components(ctx, route.components);
        }
    } catch (...) {
        ready = false;
        session->handler_failed(route.pattern, std::current_exception());
    }
    if (!ready) {
        co_await session->refuse(Status::internal_server_error, Code::internal_error);
    } else {
        try {
            co_await route.websocket->run(ctx, route.pattern);
        } catch (const std::exception& e) {
            logger().error("websocket route '{}' failed: {}", route.pattern, e.what());
        }
    }
    co_await session->finish();
}

}  // namespace flamecpp::detail
