#pragma once

// The one way the sessions read and write their connection: plain TCP, or TLS (server/tls.hpp)
// behind the same operations. Nothing else in src/server touches the socket: the HTTP
// session, the WebSocket session and the reaper go through here.
//
// The plain path is inline and forwards to Asio, so the seam costs one predictable branch on
// the request path: write_now() is the inline write the sessions try first (one non-blocking
// send(2) or sendmsg(2), no completion handler); write() and read_some() suspend the caller.
// Over TLS the same calls encrypt into the stream's buffer and send from there.

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <netinet/tcp.h>
#include <sys/sendfile.h>

#include "server/tls.hpp"

namespace flamecpp::detail {

/// Completion token of the transport's operations: an awaitable of (error_code, count).
inline constexpr auto transport_use_tuple = boost::asio::as_tuple(boost::asio::use_awaitable);

class Transport {
public:
    using error_code = boost::system::error_code;
    using Result = std::tuple<error_code, std::size_t>;

    /// Takes an accepted, non-blocking socket (plain TCP until start_tls()).
    explicit Transport(boost::asio::ip::tcp::socket socket) noexcept : socket_(std::move(socket)) {}

    ~Transport() {
        if (tls_) {
            tls_->detach();  // a read still pending must not reach for socket_ any more
        }
    }
    Transport(Transport&&) noexcept = default;
    Transport& operator=(Transport&&) noexcept = delete;
    Transport(const Transport&) = delete;
    Transport& operator=(const Transport&) = delete;

    bool is_tls() const noexcept { return tls_ != nullptr; }
    /// From now on the connection speaks TLS (before any byte was read).
    void start_tls(TlsStreamPtr tls) noexcept { tls_ = std::move(tls); }
    /// The TLS state (is_tls() only): the handshake and its details.
    TlsStream& tls() noexcept { return *tls_; }
    boost::asio::ip::tcp::socket& socket() noexcept { return socket_; }

    /// Writes what the connection takes now without suspending. It all went when the count
    /// is the whole and `ec` is clear; otherwise write() with the rest (from the count on,
    /// maybe nothing) finishes it. Plain TCP: a short count, or would_block with none. TLS:
    /// the whole is accepted (encrypted) and `ec` is would_block while ciphertext is left.
    template <class ConstBuffers>
    std::size_t write_now(const ConstBuffers& buffers, error_code& ec) {
        if (!tls_) [[likely]] {
            return socket_.write_some(buffers, ec);
        }
        if (stage(buffers)) {
            return tls_->write_staged_now(socket_, ec);
        }
        const boost::asio::const_buffer one = first(buffers);
        return tls_->write_now(socket_, one.data(), one.size(), ec);
    }

    /// Writes all of `buffers`, suspending while the connection takes no more.
    template <class ConstBuffers>
    boost::asio::awaitable<Result> write(const ConstBuffers& buffers) {
        if (!tls_) [[likely]] {
            return boost::asio::async_write(socket_, buffers, transport_use_tuple);
        }
        std::size_t total = 0;
        for (auto it = boost::asio::buffer_sequence_begin(buffers);
             it != boost::asio::buffer_sequence_end(buffers); ++it) {
            total += boost::asio::const_buffer(*it).size();
        }
        if (total > std::size_t{64} * 1024) {
            // A large answer is encrypted a slice at a time as the socket takes it, so its
            // ciphertext never doubles its size in memory.
            return tls_->write_sliced(socket_, std::vector<boost::asio::const_buffer>(
                                                   boost::asio::buffer_sequence_begin(buffers),
                                                   boost::asio::buffer_sequence_end(buffers)));
        }
        // Encrypted now, whole: the awaitable only sends ciphertext, so the caller's buffers
        // need not outlive this call.
        error_code ec;
        std::size_t n = 0;
        if (stage(buffers)) {
            n = tls_->encrypt_staged(ec);
        } else {
            const boost::asio::const_buffer one = first(buffers);
            n = tls_->encrypt(one.data(), one.size(), ec);
        }
        return tls_->flush(socket_, n, ec);
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
        if (tls_) {
            return tls_->send_file(socket_, fd, offset, count);
        }
        return send_file_plain(fd, offset, count);
    }

    boost::asio::awaitable<Result> send_file_plain(int fd,
                                                   std::uint64_t offset,
                                                   std::uint64_t count) {
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
    /// Over TLS, into the first buffer of the sequence (the sessions pass one).
    template <class MutableBuffers>
    boost::asio::awaitable<Result> read_some(const MutableBuffers& buffers) {
        if (!tls_) [[likely]] {
            return socket_.async_read_some(buffers, transport_use_tuple);
        }
        const boost::asio::mutable_buffer one = *boost::asio::buffer_sequence_begin(buffers);
        return tls_->read_some(socket_, one.data(), one.size());
    }

    /// Plain TCP only (not is_tls()): read_some() as an Asio operation, which a coroutine
    /// awaits with no frame of its own: no allocation per read, and an idle connection keeps
    /// only the socket's pending operation. Name the result before awaiting it (GCC 12
    /// mishandles temporaries in a co_await operand).
    template <class MutableBuffers>
    auto read_some_plain(const MutableBuffers& buffers) {
        return socket_.async_read_some(buffers, boost::asio::as_tuple(boost::asio::deferred));
    }

    /// Reads until `buffer` is full, suspending as needed.
    boost::asio::awaitable<Result> read(boost::asio::mutable_buffer buffer) {
        if (!tls_) [[likely]] {
            return boost::asio::async_read(socket_, buffer, transport_use_tuple);
        }
        return read_tls(tls_, socket_, buffer);
    }

    /// Ends our direction of the connection (a FIN, after TLS's close_notify), for a
    /// lingering close.
    void shutdown_send() noexcept {
        if (tls_) {
            tls_->close_notify(socket_);
        }
        error_code ignored;
        socket_.shutdown(boost::asio::ip::tcp::socket::shutdown_send, ignored);
    }

    /// Ends both directions and closes: pending operations end with an error.
    void shutdown_and_close() noexcept {
        if (tls_) {
            tls_->close_notify(socket_);
        }
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
    /// Copies a sequence of more than one buffer into the TLS stream's batch (true), for one
    /// SSL_write; a single buffer is encrypted where it is.
    template <class ConstBuffers>
    bool stage(const ConstBuffers& buffers) {
        auto it = boost::asio::buffer_sequence_begin(buffers);
        const auto end = boost::asio::buffer_sequence_end(buffers);
        if (it == end || std::next(it) == end) {
            return false;
        }
        for (; it != end; ++it) {
            const boost::asio::const_buffer b(*it);
            tls_->stage(b.data(), b.size());
        }
        return true;
    }

    template <class ConstBuffers>
    static boost::asio::const_buffer first(const ConstBuffers& buffers) {
        auto it = boost::asio::buffer_sequence_begin(buffers);
        if (it == boost::asio::buffer_sequence_end(buffers)) {
            return {};
        }
        return boost::asio::const_buffer(*it);
    }

    /// Not a member: after a wait it touches only the stream it holds, which a transport
    /// destroyed meanwhile has detached (its reads then end without reaching the socket).
    static boost::asio::awaitable<Result> read_tls(TlsStreamPtr tls,
                                                   boost::asio::ip::tcp::socket& socket,
                                                   boost::asio::mutable_buffer buffer) {
        std::size_t done = 0;
        while (done < buffer.size()) {
            auto part = tls->read_some(socket, static_cast<char*>(buffer.data()) + done,
                                       buffer.size() - done);
            auto [ec, n] = co_await std::move(part);
            done += n;
            if (ec) {
                co_return Result{ec, done};
            }
        }
        co_return Result{error_code{}, done};
    }

    boost::asio::ip::tcp::socket socket_;
    TlsStreamPtr tls_;
};

}  // namespace flamecpp::detail
