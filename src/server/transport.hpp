#pragma once

// The one way the sessions read and write their connection. Plain TCP today; TLS (a later
// layer) becomes a second kind behind the same operations. Nothing else in src/server touches
// the socket: the HTTP session, the WebSocket session and the reaper go through here.
//
// Everything is inline and forwards to Asio, so the seam costs nothing on the request path:
// write_now() is the inline write the sessions try first (one non-blocking send(2) or
// sendmsg(2), no completion handler); write() and read_some() suspend the caller.

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <string>
#include <tuple>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <netinet/tcp.h>
#include <sys/sendfile.h>

namespace flamecpp::detail {

/// Completion token of the transport's operations: an awaitable of (error_code, count).
inline constexpr auto transport_use_tuple = boost::asio::as_tuple(boost::asio::use_awaitable);

class Transport {
public:
    using error_code = boost::system::error_code;
    using Result = std::tuple<error_code, std::size_t>;

    /// Takes an accepted, non-blocking socket.
    explicit Transport(boost::asio::ip::tcp::socket socket) noexcept : socket_(std::move(socket)) {}

    /// Writes what the connection takes now without suspending; `ec` is would_block (with a
    /// count short of the whole) when it takes less, or the error that ended it.
    template <class ConstBuffers>
    std::size_t write_now(const ConstBuffers& buffers, error_code& ec) {
        return socket_.write_some(buffers, ec);
    }

    /// Writes all of `buffers`, suspending while the connection takes no more.
    template <class ConstBuffers>
    boost::asio::awaitable<Result> write(const ConstBuffers& buffers) {
        return boost::asio::async_write(socket_, buffers, transport_use_tuple);
    }

    /// Sends `count` bytes of the file `fd` from `offset` with sendfile(2): the kernel copies
    /// from the page cache to the socket, nothing passes through this process. Suspends while
    /// the socket is full, so a slow reader holds only its own connection. The count is what
    /// went out; an error (or a file that shrank: end_of_file) stops it.
    /// TCP_CORK: while on, the kernel sends only full segments; turning it off sends the rest.
    void set_cork(bool on) noexcept {
        const int value = on ? 1 : 0;
        ::setsockopt(socket_.native_handle(), IPPROTO_TCP, TCP_CORK, &value, sizeof value);
    }

    boost::asio::awaitable<Result> send_file(int fd, std::uint64_t offset, std::uint64_t count) {
        std::uint64_t sent = 0;
        std::uint64_t since_yield = 0;
        constexpr std::uint64_t yield_every = std::uint64_t{4} << 20;
        auto position = static_cast<off_t>(offset);
        if (!socket_.native_non_blocking()) {
            error_code ec;
            socket_.native_non_blocking(true, ec);
            if (ec) {
                co_return Result{ec, 0};
            }
        }
        while (sent < count) {
            const auto chunk =
                static_cast<std::size_t>(std::min<std::uint64_t>(count - sent, yield_every));
            const ssize_t n = ::sendfile(socket_.native_handle(), fd, &position, chunk);
            if (n > 0) {
                sent += static_cast<std::uint64_t>(n);
                since_yield += static_cast<std::uint64_t>(n);
                if (since_yield >= yield_every && sent < count) {
                    // A fast reader must not hold the thread: let the other connections run.
                    since_yield = 0;
                    co_await boost::asio::post(socket_.get_executor(), boost::asio::use_awaitable);
                }
                continue;
            }
            if (n == 0) {
                co_return Result{boost::asio::error::eof, sent};
            }
            if (errno == EINTR) {
                continue;
            }
            if (errno != EAGAIN) {
                co_return Result{error_code(errno, boost::system::system_category()), sent};
            }
            auto [ec] = co_await socket_.async_wait(boost::asio::socket_base::wait_write,
                                                    transport_use_tuple);
            if (ec) {
                co_return Result{ec, sent};
            }
        }
        co_return Result{error_code{}, sent};
    }

    /// Reads what has arrived into `buffers`, suspending until something has.
    template <class MutableBuffers>
    boost::asio::awaitable<Result> read_some(const MutableBuffers& buffers) {
        return socket_.async_read_some(buffers, transport_use_tuple);
    }

    /// Reads until `buffers` are full, suspending as needed.
    template <class MutableBuffers>
    boost::asio::awaitable<Result> read(const MutableBuffers& buffers) {
        return boost::asio::async_read(socket_, buffers, transport_use_tuple);
    }

    /// Ends our direction of the connection (a FIN), for a lingering close.
    void shutdown_send() noexcept {
        error_code ignored;
        socket_.shutdown(boost::asio::ip::tcp::socket::shutdown_send, ignored);
    }

    /// Ends both directions and closes: pending operations end with an error.
    void shutdown_and_close() noexcept {
        error_code ignored;
        socket_.shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
        socket_.close(ignored);
    }

    /// Closes at once: pending operations end with operation_aborted.
    void close() noexcept {
        error_code ignored;
        socket_.close(ignored);
    }

    /// Pending reads and writes end with operation_aborted; the connection stays.
    void cancel() noexcept {
        error_code ignored;
        socket_.cancel(ignored);
    }

    bool is_open() const noexcept { return socket_.is_open(); }

    /// "address:port" of the peer, or empty when it is not known (already gone).
    std::string peer() const {
        error_code ec;
        auto remote = socket_.remote_endpoint(ec);
        if (ec) {
            return {};
        }
        return remote.address().to_string() + ":" + std::to_string(remote.port());
    }

    auto get_executor() noexcept { return socket_.get_executor(); }

private:
    boost::asio::ip::tcp::socket socket_;
};

}  // namespace flamecpp::detail
