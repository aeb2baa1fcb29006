#pragma once

// The test client's connection: plain TCP, or TLS over it when the TestClient serves its app
// over TLS (ClientOptions::tls). One stream type for both, so the HTTP client and Beast's
// WebSocket stream run unchanged on either.

#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <boost/asio/async_result.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/role.hpp>

namespace flamecpp::testing::client {

class ClientStream {
public:
    using executor_type = boost::asio::ip::tcp::socket::executor_type;
    using error_code = boost::system::error_code;

    explicit ClientStream(boost::asio::io_context& io) : socket_(io) {}

    executor_type get_executor() noexcept { return socket_.get_executor(); }

    /// The TCP socket underneath (before start_tls(), and after it too).
    boost::asio::ip::tcp::socket& socket() noexcept { return tls_ ? tls_->next_layer() : socket_; }
    bool is_open() noexcept { return socket().is_open(); }

    /// From now on the connection is TLS, once handshake() has completed: the server's
    /// certificate is checked against `context`'s trusted CAs for `server_name` (also sent
    /// as SNI).
    void start_tls(boost::asio::ssl::context& context, const std::string& server_name) {
        reset();
        tls_.emplace(std::move(socket_), context);
        SSL_set_tlsext_host_name(tls_->native_handle(), server_name.c_str());
        tls_->set_verify_mode(boost::asio::ssl::verify_peer);
        tls_->set_verify_callback(boost::asio::ssl::host_name_verification(server_name));
    }
    bool is_tls() const noexcept { return tls_.has_value(); }

    template <class Handler>
    void async_handshake(Handler&& handler) {
        tls_->async_handshake(boost::asio::ssl::stream_base::client,
                              std::forward<Handler>(handler));
    }

    /// Closes the connection. The TLS state stays until the next start_tls() or reset(): an
    /// operation the close cancelled still completes on it when the io_context runs.
    void close() noexcept {
        error_code ignored;
        socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
        socket().close(ignored);
    }

    /// Back to plain TCP for a new connection (nothing may be pending).
    void reset() noexcept {
        if (tls_) {
            socket_ = std::move(tls_->next_layer());
            tls_.reset();
        }
    }

    template <class MutableBuffers, class Token>
    auto async_read_some(const MutableBuffers& buffers, Token&& token) {
        return boost::asio::async_initiate<Token, void(error_code, std::size_t)>(
            [this](auto handler, const MutableBuffers& b) {
                if (tls_) {
                    tls_->async_read_some(b, std::move(handler));
                } else {
                    socket_.async_read_some(b, std::move(handler));
                }
            },
            token, buffers);
    }

    template <class ConstBuffers, class Token>
    auto async_write_some(const ConstBuffers& buffers, Token&& token) {
        return boost::asio::async_initiate<Token, void(error_code, std::size_t)>(
            [this](auto handler, const ConstBuffers& b) {
                if (tls_) {
                    tls_->async_write_some(b, std::move(handler));
                } else {
                    socket_.async_write_some(b, std::move(handler));
                }
            },
            token, buffers);
    }

private:
    boost::asio::ip::tcp::socket socket_;
    std::optional<boost::asio::ssl::stream<boost::asio::ip::tcp::socket>> tls_;
};

/// Beast closes the stream through this (found by ADL) when a timeout or an error ends it.
inline void beast_close_socket(ClientStream& stream) { stream.close(); }

/// Beast's WebSocket stream ends a connection through these (found by ADL): a TCP close,
/// as Beast does for a plain socket. The close handshake has already happened.
inline void teardown(boost::beast::role_type /*role*/,
                     ClientStream& stream,
                     boost::system::error_code& ec) {
    ec = {};
    stream.close();
}

template <class Handler>
void async_teardown(boost::beast::role_type /*role*/, ClientStream& stream, Handler&& handler) {
    stream.close();
    boost::asio::post(stream.get_executor(),
                      boost::beast::bind_front_handler(std::forward<Handler>(handler),
                                                       boost::system::error_code()));
}

}  // namespace flamecpp::testing::client
