#pragma once

// TLS behind the transport seam: OpenSSL 3 with buffers of our own in place of its socket
// BIO. Ciphertext arrives in `in_` from Asio reads and leaves from `out_` through Asio writes,
// so the sessions keep their logic (inline writes, pipelining, a WebSocket reading while it
// writes) and OpenSSL never touches the socket. Gathered buffers are encrypted with one
// SSL_write per batch. OpenSSL's headers stay in tls.cpp.

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <flamecpp/server.hpp>

struct ssl_st;
struct ssl_ctx_st;

namespace flamecpp::detail {

/// The certificates, keys and settings connections are accepted with. Immutable once loaded:
/// a reload builds a new one, and connections keep the one they started with.
class TlsContext {
public:
    /// Loads the certificate chains and keys of `options`. Throws std::runtime_error naming
    /// the file that does not load and why. `previous` (a reload) hands over its session
    /// ticket keys, so that clients resume across the reload.
    static std::shared_ptr<const TlsContext> load(const TlsOptions& options,
                                                  const TlsContext* previous = nullptr);
    ~TlsContext();
    TlsContext(const TlsContext&) = delete;
    TlsContext& operator=(const TlsContext&) = delete;

    ssl_ctx_st* native() const noexcept { return ctx_; }
    std::chrono::milliseconds handshake_timeout() const noexcept { return handshake_timeout_; }

    struct Named;  ///< an SNI certificate: its context and the names it serves

private:
    TlsContext() = default;
    ssl_ctx_st* ctx_ = nullptr;
    std::vector<Named> named_;
    std::chrono::milliseconds handshake_timeout_{10000};
};

/// One connection's TLS state. Single-threaded, like the session that owns it; at most one
/// writer at a time (the sessions guarantee it), while a read may be pending. Shared: a read
/// or a write under way holds it, so a session that lets go of its transport while a read is
/// still pending (a WebSocket ending) does not pull the buffers from under it.
class TlsStream : public std::enable_shared_from_this<TlsStream> {
public:
    using error_code = boost::system::error_code;
    using Result = std::tuple<error_code, std::size_t>;
    using Socket = boost::asio::ip::tcp::socket;

    explicit TlsStream(std::shared_ptr<const TlsContext> context);
    ~TlsStream();
    TlsStream(const TlsStream&) = delete;
    TlsStream& operator=(const TlsStream&) = delete;

    /// What the first bytes of a connection are.
    enum class Hello : std::uint8_t {
        tls,         ///< a TLS handshake record
        plain_http,  ///< an HTTP request line: the client forgot https://
        garbage,     ///< anything else
    };
    /// Reads the connection's first bytes, and says what they are.
    boost::asio::awaitable<std::tuple<error_code, Hello>> read_hello(Socket& socket);
    /// Completes the server side of the handshake (after read_hello said `tls`).
    boost::asio::awaitable<error_code> handshake(Socket& socket);
    /// Answers a plain HTTP request with a plain-text 400, without TLS, and ends the
    /// connection once the client has closed its side (or the caller's deadline cancels).
    boost::asio::awaitable<void> refuse_plain_http(Socket& socket);

    /// Encrypts `size` bytes (one SSL_write) and sends what the socket takes now. All of it is
    /// accepted unless `ec` is set; would_block means ciphertext is left for flush().
    std::size_t write_now(Socket& socket, const void* data, std::size_t size, error_code& ec);
    /// Appends a buffer to the batch that write_staged_now() encrypts.
    void stage(const void* data, std::size_t size);
    std::size_t write_staged_now(Socket& socket, error_code& ec);
    /// Encrypts the batch without sending it (the caller then awaits flush()).
    std::size_t encrypt_staged(error_code& ec);
    std::size_t encrypt(const void* data, std::size_t size, error_code& ec);
    /// Sends the ciphertext left over, waiting for the socket; reports `count` when all went.
    boost::asio::awaitable<Result> flush(Socket& socket, std::size_t count, error_code ec);
    /// Encrypts and sends `buffers` in slices of 64 KiB (a large answer: the ciphertext is
    /// never more than a slice). The buffers must stay valid until it completes.
    boost::asio::awaitable<Result> write_sliced(Socket& socket,
                                                std::vector<boost::asio::const_buffer> buffers);
    /// Reads decrypted bytes into `buffer`, suspending until some have arrived.
    boost::asio::awaitable<Result> read_some(Socket& socket, void* data, std::size_t size);
    /// A file's bytes through TLS: pread(2) in chunks, encrypted and sent (no sendfile(2)).
    boost::asio::awaitable<Result> send_file(Socket& socket,
                                             int fd,
                                             std::uint64_t offset,
                                             std::uint64_t count);
    /// Queues a close_notify alert and sends what the socket takes now.
    void close_notify(Socket& socket) noexcept;
    /// The transport and its socket are gone: an operation still under way ends without
    /// touching them.
    void detach() noexcept { broken_ = true; }

    // The BIO's side, called by OpenSSL from within SSL_read and SSL_write.
    int bio_read(char* out, int size) noexcept;
    int bio_write(const char* data, int size) noexcept;

private:
    /// Reads more ciphertext from the socket into `in_`.
    boost::asio::awaitable<error_code> fill(Socket& socket);
    /// Sends what the socket takes of `out_` now (no wait); `ec` gets a real error only.
    void send_now(Socket& socket, error_code& ec) noexcept;
    bool pending() const noexcept { return out_pos_ < out_.size(); }
    error_code last_error(int ret) noexcept;

    char* input() noexcept { return big_ ? big_.get() : small_.data(); }
    std::size_t input_size() const noexcept {
        return big_ ? std::size_t{17} * 1024 : small_.size();
    }

    /// Lets go of large buffers while the connection waits for its next bytes.
    void trim() noexcept;
    void clear_staged() noexcept;

    std::shared_ptr<const TlsContext> context_;  ///< its SNI certificates outlive the SSL
    ssl_st* ssl_ = nullptr;
    /// Ciphertext from the socket, [in_begin_, in_end_) of input(): the large buffer while
    /// reads fill the small one, else the small one.
    std::unique_ptr<char[]> big_;
    std::array<char, 2048> small_;
    std::size_t last_read_ = 0;
    std::size_t in_begin_ = 0;
    std::size_t in_end_ = 0;
    std::string out_;  ///< ciphertext to send, from out_pos_ on
    std::size_t out_pos_ = 0;
    std::string sending_;  ///< the ciphertext a flush() is writing (out_ takes new bytes)
    std::string staged_;   ///< plaintext of a gathered write, encrypted at once
    bool flushing_ = false;
    bool broken_ = false;  ///< a fatal TLS error: no more SSL calls
};

using TlsStreamPtr = std::shared_ptr<TlsStream>;

}  // namespace flamecpp::detail
