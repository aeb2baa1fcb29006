#include "server/tls.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <unistd.h>

namespace flamecpp::detail {
namespace asio = boost::asio;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

/// Ciphertext read from the socket at once while the traffic is heavy: a whole TLS record
/// (16 KiB of data and its overhead) and the start of the next.
constexpr std::size_t in_size = std::size_t{17} * 1024;
/// A file over TLS is read, encrypted and sent in chunks of this size.
constexpr std::size_t file_chunk = std::size_t{64} * 1024;
/// Ciphertext buffers above this size are not kept once sent (a large response's); one
/// slice of a large write or file fits.
constexpr std::size_t keep_capacity = std::size_t{72} * 1024;
/// What an idle connection keeps of its buffers.
constexpr std::size_t idle_capacity = std::size_t{4} * 1024;

// Mozilla's "intermediate" configuration (v5.7): forward secrecy and AEAD ciphers only for
// TLS 1.2; TLS 1.3 uses OpenSSL's default suites (AES-GCM and ChaCha20-Poly1305).
constexpr const char* tls12_ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
constexpr const char* groups = "X25519:prime256v1:secp384r1";
/// The ALPN protocols we speak, in wire format.
constexpr unsigned char alpn_protocols[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};

/// The first OpenSSL error queued (and clears the queue), as text.
std::string openssl_reason() {
    const unsigned long code = ERR_get_error();
    ERR_clear_error();
    if (code == 0) {
        return "unknown error";
    }
    const char* reason = ERR_reason_error_string(code);
    return reason != nullptr ? reason : "error " + std::to_string(code);
}

/// OpenSSL's errors as error codes: the packed error number, its reason as the message.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"  // error_category's is protected
class TlsCategory final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "tls"; }
    std::string message(int value) const override {
        const char* reason = ERR_reason_error_string(static_cast<unsigned long>(value));
        return reason != nullptr ? reason : "TLS error " + std::to_string(value);
    }
};
#pragma GCC diagnostic pop

const boost::system::error_category& tls_category() noexcept {
    static const TlsCategory category;
    return category;
}

/// Fails with "FILE: why" when `path` cannot be opened for reading (checked before OpenSSL,
/// whose messages do not name the file).
void check_readable(const std::string& path, const char* what) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (f == nullptr) {
        throw ConfigurationError("cannot read the TLS " + std::string(what) + " '" + path +
                                 "': " + std::strerror(errno));
    }
    std::fclose(f);
}

struct CtxDelete {
    void operator()(SSL_CTX* ctx) const noexcept { SSL_CTX_free(ctx); }
};
using CtxPtr = std::unique_ptr<SSL_CTX, CtxDelete>;

int select_alpn(SSL* /*ssl*/,
                const unsigned char** out,
                unsigned char* out_size,
                const unsigned char* offered,
                unsigned int offered_size,
                void* /*arg*/) {
    unsigned char* chosen = nullptr;
    if (SSL_select_next_proto(&chosen, out_size, alpn_protocols, sizeof alpn_protocols, offered,
                              offered_size) != OPENSSL_NPN_NEGOTIATED) {
        // RFC 7301 3.2: no protocol in common is a no_application_protocol alert.
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    }
    *out = chosen;
    return SSL_TLSEXT_ERR_OK;
}

/// A context with one certificate chain and key, and the settings every connection gets.
CtxPtr make_context(const TlsCertificate& certificate) {
    check_readable(certificate.cert_file, "certificate");
    check_readable(certificate.key_file, "key");
    CtxPtr ctx(SSL_CTX_new(TLS_server_method()));
    if (!ctx) {
        throw ConfigurationError("cannot create a TLS context: " + openssl_reason());
    }
    SSL_CTX* c = ctx.get();
    SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
    // Our cipher order (strongest first, ChaCha20 for the clients that prefer it: those
    // without AES instructions): scanners rate a server without an order as weak.
    SSL_CTX_set_options(c, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
                               SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_PRIORITIZE_CHACHA);
    // Fewer buffers held by idle connections; our BIO never asks for a retry on write.
    SSL_CTX_set_mode(c, SSL_MODE_RELEASE_BUFFERS);
    if (SSL_CTX_set_cipher_list(c, tls12_ciphers) != 1 ||
        SSL_CTX_set1_groups_list(c, groups) != 1) {
        throw ConfigurationError("cannot set the TLS ciphers: " + openssl_reason());
    }
    static constexpr unsigned char session_context[] = "flamecpp";
    SSL_CTX_set_session_id_context(c, session_context, sizeof session_context - 1);
    SSL_CTX_set_alpn_select_cb(c, select_alpn, nullptr);
    if (SSL_CTX_use_certificate_chain_file(c, certificate.cert_file.c_str()) != 1) {
        throw ConfigurationError("cannot load the TLS certificate '" + certificate.cert_file +
                                 "': " + openssl_reason());
    }
    if (SSL_CTX_use_PrivateKey_file(c, certificate.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
        const unsigned long code = ERR_peek_last_error();
        if (ERR_GET_LIB(code) == ERR_LIB_X509 &&
            ERR_GET_REASON(code) == X509_R_KEY_VALUES_MISMATCH) {
            ERR_clear_error();
            throw ConfigurationError("the TLS key '" + certificate.key_file +
                                     "' does not match the certificate '" + certificate.cert_file +
                                     "'");
        }
        throw ConfigurationError("cannot load the TLS key '" + certificate.key_file +
                                 "': " + openssl_reason());
    }
    if (SSL_CTX_check_private_key(c) != 1) {
        ERR_clear_error();
        throw ConfigurationError("the TLS key '" + certificate.key_file +
                                 "' does not match the certificate '" + certificate.cert_file +
                                 "'");
    }
    return ctx;
}

/// Whether the certificate of `ctx` is for `host` (its subject alternative names).
bool serves(SSL_CTX* ctx, const char* host) {
    X509* cert = SSL_CTX_get0_certificate(ctx);
    return cert != nullptr && X509_check_host(cert, host, 0, 0, nullptr) == 1;
}

// The BIO between OpenSSL and a TlsStream's buffers.
int bio_write_cb(BIO* bio, const char* data, int size) {
    return static_cast<TlsStream*>(BIO_get_data(bio))->bio_write(data, size);
}
int bio_read_cb(BIO* bio, char* out, int size) {
    BIO_clear_retry_flags(bio);
    const int n = static_cast<TlsStream*>(BIO_get_data(bio))->bio_read(out, size);
    if (n == 0) {
        BIO_set_retry_read(bio);
        return -1;
    }
    return n;
}
long bio_ctrl_cb(BIO* /*bio*/, int cmd, long /*num*/, void* /*ptr*/) {
    return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}
int bio_create_cb(BIO* bio) {
    BIO_set_init(bio, 1);
    return 1;
}

BIO_METHOD* bio_method() {
    static BIO_METHOD* const method = [] {
        BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "flamecpp");
        BIO_meth_set_write(m, bio_write_cb);
        BIO_meth_set_read(m, bio_read_cb);
        BIO_meth_set_ctrl(m, bio_ctrl_cb);
        BIO_meth_set_create(m, bio_create_cb);
        return m;
    }();
    return method;
}

}  // namespace

struct TlsContext::Named {
    CtxPtr ctx;
};

namespace {
int select_certificate(SSL* ssl, int* /*alert*/, void* arg) {
    const char* host = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    if (host == nullptr) {
        return SSL_TLSEXT_ERR_OK;  // the default certificate
    }
    const auto& named = *static_cast<const std::vector<TlsContext::Named>*>(arg);
    for (const auto& n : named) {
        if (serves(n.ctx.get(), host)) {
            SSL_set_SSL_CTX(ssl, n.ctx.get());
            break;
        }
    }
    return SSL_TLSEXT_ERR_OK;
}
}  // namespace

std::shared_ptr<const TlsContext> TlsContext::load(const TlsOptions& options,
                                                   const TlsContext* previous) {
    if (options.certificate.cert_file.empty() || options.certificate.key_file.empty()) {
        throw ConfigurationError("TLS needs both a certificate and a key file");
    }
    std::shared_ptr<TlsContext> out(new TlsContext());
    CtxPtr main = make_context(options.certificate);
    for (const auto& extra : options.sni) {
        out->named_.push_back(Named{make_context(extra)});
    }
    if (!out->named_.empty()) {
        SSL_CTX_set_tlsext_servername_callback(main.get(), select_certificate);
        SSL_CTX_set_tlsext_servername_arg(main.get(), &out->named_);
    }
    if (previous != nullptr) {
        // Tickets issued before a reload stay valid: the new context takes the old keys.
        unsigned char keys[80];
        if (SSL_CTX_get_tlsext_ticket_keys(previous->ctx_, keys, sizeof keys) == 1) {
            SSL_CTX_set_tlsext_ticket_keys(main.get(), keys, sizeof keys);
        }
        OPENSSL_cleanse(keys, sizeof keys);
    }
    out->handshake_timeout_ = options.handshake_timeout;
    out->ctx_ = main.release();
    return out;
}

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

TlsStream::TlsStream(std::shared_ptr<const TlsContext> context)
    : context_(std::move(context)), ssl_(SSL_new(context_->native())) {
    if (ssl_ == nullptr) {
        throw ConfigurationError("cannot create a TLS connection: " + openssl_reason());
    }
    BIO* bio = BIO_new(bio_method());
    if (bio == nullptr) {
        SSL_free(ssl_);
        throw ConfigurationError("cannot create a TLS connection: " + openssl_reason());
    }
    BIO_set_data(bio, this);
    SSL_set_bio(ssl_, bio, bio);  // one BIO both ways; the SSL owns it
    SSL_set_accept_state(ssl_);
}

TlsStream::~TlsStream() { SSL_free(ssl_); }

int TlsStream::bio_read(char* out, int size) noexcept {
    const std::size_t n = std::min(in_end_ - in_begin_, static_cast<std::size_t>(size));
    std::memcpy(out, input() + in_begin_, n);
    in_begin_ += n;
    return static_cast<int>(n);
}

int TlsStream::bio_write(const char* data, int size) noexcept {
    try {
        out_.append(data, static_cast<std::size_t>(size));
    } catch (...) {
        return -1;  // out of memory: the SSL call fails
    }
    return size;
}

TlsStream::error_code TlsStream::last_error(int ret) noexcept {
    const int reason = SSL_get_error(ssl_, ret);
    if (reason == SSL_ERROR_ZERO_RETURN) {
        return asio::error::eof;  // close_notify: the client has finished
    }
    broken_ = true;
    const unsigned long code = ERR_get_error();
    ERR_clear_error();
    if (code == 0) {
        // SSL_ERROR_SYSCALL without a queued error: the stream ended inside a record.
        return asio::error::connection_reset;
    }
    return {static_cast<int>(code), tls_category()};
}

void TlsStream::trim() noexcept {
    if (flushing_ || pending()) {
        return;
    }
    if (out_.capacity() > idle_capacity) {
        std::string().swap(out_);
    }
    if (sending_.capacity() > idle_capacity) {
        std::string().swap(sending_);
    }
    if (staged_.capacity() > idle_capacity) {
        std::string().swap(staged_);
    }
}

asio::awaitable<TlsStream::error_code> TlsStream::fill(Socket& socket) {
    const auto self = shared_from_this();  // a session may let go while the read waits
    trim();
    // OpenSSL asks for more only once it has taken every byte we had.
    if (in_begin_ != in_end_) {
        co_return asio::error::no_buffer_space;
    }
    in_begin_ = in_end_ = 0;
    // Requests and messages that fit the small buffer are read there, so a connection waiting
    // for its next request holds no large buffer; the large one is taken while reads fill the
    // small one, and let go at the first read that would have fitted it.
    if (big_ && last_read_ < small_.size()) {
        big_.reset();
    } else if (!big_ && last_read_ == small_.size()) {
        big_ = std::make_unique<char[]>(in_size);
    }
    auto [ec, n] = co_await socket.async_read_some(asio::buffer(input(), input_size()), use_tuple);
    in_end_ = n;
    last_read_ = n;
    co_return ec;
}

asio::awaitable<std::tuple<TlsStream::error_code, TlsStream::Hello>> TlsStream::read_hello(
    Socket& socket) {
    auto ec = co_await fill(socket);
    if (ec) {
        co_return std::tuple{ec, Hello::garbage};
    }
    const char* in = input();
    const auto first = static_cast<unsigned char>(in[in_begin_]);
    if (first == 0x16) {  // a handshake record
        co_return std::tuple{ec, Hello::tls};
    }
    // An HTTP method: upper-case letters up to a space ("GET /", "POST /", ...).
    std::size_t i = in_begin_;
    while (i < in_end_ && i - in_begin_ < 20 && in[i] >= 'A' && in[i] <= 'Z') {
        ++i;
    }
    const bool method = i > in_begin_ && (i == in_end_ || in[i] == ' ');
    co_return std::tuple{ec, method ? Hello::plain_http : Hello::garbage};
}

asio::awaitable<TlsStream::error_code> TlsStream::handshake(Socket& socket) {
    const auto self = shared_from_this();
    for (;;) {
        ERR_clear_error();
        const int ret = SSL_do_handshake(ssl_);
        if (ret == 1) {
            auto rest = flush(socket, 0, error_code());  // the server's last flight
            auto [ec, n] = co_await std::move(rest);
            (void)n;
            co_return ec;
        }
        if (SSL_get_error(ssl_, ret) != SSL_ERROR_WANT_READ) {
            error_code ec = last_error(ret);
            error_code ignored;
            send_now(socket, ignored);  // the alert, if the socket takes it
            co_return ec ? ec : asio::error::connection_aborted;
        }
        if (pending()) {
            auto flight = flush(socket, 0, error_code());
            auto [ec, n] = co_await std::move(flight);
            (void)n;
            if (ec) {
                co_return ec;
            }
        }
        if (auto ec = co_await fill(socket)) {
            co_return ec;
        }
    }
}

asio::awaitable<void> TlsStream::refuse_plain_http(Socket& socket) {
    static constexpr std::string_view body =
        "400 Bad Request: this port speaks HTTPS. Ask for https:// instead of http://.\n";
    std::string answer =
        "HTTP/1.1 400 Bad Request\r\nServer: flamecpp\r\nContent-Type: text/plain; "
        "charset=utf-8\r\nConnection: close\r\nContent-Length: " +
        std::to_string(body.size()) + "\r\n\r\n" + std::string(body);
    auto [ec, n] = co_await asio::async_write(socket, asio::buffer(answer), use_tuple);
    (void)n;
    if (ec) {
        co_return;
    }
    // Closing with unread bytes would reset the connection before the client reads the
    // answer: stop sending, then drop what still comes until the client closes.
    error_code ignored;
    socket.shutdown(Socket::shutdown_send, ignored);
    in_begin_ = in_end_ = 0;
    for (std::size_t drained = 0; drained < std::size_t{1} << 20;) {
        auto [read_ec, read_n] =
            co_await socket.async_read_some(asio::buffer(input(), input_size()), use_tuple);
        if (read_ec) {
            break;
        }
        drained += read_n;
    }
}

void TlsStream::send_now(Socket& socket, error_code& ec) noexcept {
    ec = {};
    if (!pending() || flushing_) {
        return;
    }
    const std::size_t n =
        socket.write_some(asio::buffer(out_.data() + out_pos_, out_.size() - out_pos_), ec);
    out_pos_ += n;
    if (ec == asio::error::would_block || ec == asio::error::try_again) {
        ec = {};
    }
    if (!pending()) {
        out_pos_ = 0;
        if (out_.capacity() > keep_capacity) {
            std::string().swap(out_);
        } else {
            out_.clear();
        }
    }
}

std::size_t TlsStream::encrypt(const void* data, std::size_t size, error_code& ec) {
    ec = {};
    if (size == 0) {
        return 0;
    }
    if (broken_) {
        ec = asio::error::broken_pipe;
        return 0;
    }
    ERR_clear_error();
    std::size_t written = 0;
    const int ret = SSL_write_ex(ssl_, data, size, &written);
    if (ret != 1) {
        ec = last_error(ret);
        if (ec == asio::error::eof) {
            ec = asio::error::broken_pipe;
        }
        return 0;
    }
    return written;  // our BIO takes everything: all of it
}

void TlsStream::stage(const void* data, std::size_t size) {
    staged_.append(static_cast<const char*>(data), size);
}

std::size_t TlsStream::encrypt_staged(error_code& ec) {
    const std::size_t n = encrypt(staged_.data(), staged_.size(), ec);
    clear_staged();
    return n;
}

void TlsStream::clear_staged() noexcept {
    if (staged_.capacity() > keep_capacity) {
        std::string().swap(staged_);
    } else {
        staged_.clear();
    }
}

std::size_t TlsStream::write_now(Socket& socket,
                                 const void* data,
                                 std::size_t size,
                                 error_code& ec) {
    if (pending()) {
        send_now(socket, ec);
        if (ec || pending()) {
            ec = ec ? ec : asio::error::would_block;
            return 0;  // nothing accepted: the caller waits in write()
        }
    }
    const std::size_t n = encrypt(data, size, ec);
    if (ec) {
        return 0;
    }
    send_now(socket, ec);
    if (!ec && pending()) {
        ec = asio::error::would_block;  // accepted; flush() sends the rest
    }
    return n;
}

std::size_t TlsStream::write_staged_now(Socket& socket, error_code& ec) {
    // Nothing accepted (ciphertext still waiting) leaves the batch to the caller's write(),
    // which stages it again from its buffers.
    const std::size_t n = write_now(socket, staged_.data(), staged_.size(), ec);
    clear_staged();
    return n;
}

asio::awaitable<TlsStream::Result> TlsStream::flush(Socket& socket,
                                                    std::size_t count,
                                                    error_code ec) {
    if (ec) {
        co_return Result{ec, 0};
    }
    const auto self = shared_from_this();
    // Cleared however the loop ends: an exception from a cancelled wait leaves the stream
    // broken (the ciphertext in sending_ is lost), never a flush that seems to run forever.
    struct Flushing {
        TlsStream& s;
        bool done = false;
        ~Flushing() {
            s.flushing_ = false;
            if (!done) {
                s.broken_ = true;
            }
        }
    } flushing{*this};
    flushing_ = true;
    while (pending()) {
        // What a read adds meanwhile (a TLS 1.3 key update's answer) goes to out_ while
        // sending_ is on the wire; the loop sends it next.
        sending_.swap(out_);
        const std::size_t from = out_pos_;
        out_pos_ = 0;
        out_.clear();
        auto [write_ec, n] = co_await asio::async_write(
            socket, asio::buffer(sending_.data() + from, sending_.size() - from), use_tuple);
        (void)n;
        if (sending_.capacity() > keep_capacity) {
            std::string().swap(sending_);
        } else {
            sending_.clear();
        }
        if (write_ec) {
            co_return Result{write_ec, 0};
        }
    }
    flushing.done = true;
    co_return Result{error_code{}, count};
}

asio::awaitable<TlsStream::Result> TlsStream::write_sliced(
    Socket& socket, std::vector<asio::const_buffer> buffers) {
    const auto self = shared_from_this();
    std::size_t total = 0;
    for (const asio::const_buffer& b : buffers) {
        const auto* data = static_cast<const char*>(b.data());
        for (std::size_t done = 0; done < b.size();) {
            const std::size_t slice = std::min(b.size() - done, file_chunk);
            error_code ec;
            encrypt(data + done, slice, ec);
            auto sending = flush(socket, slice, ec);
            auto [flush_ec, n] = co_await std::move(sending);
            (void)n;
            if (flush_ec) {
                co_return Result{flush_ec, total};
            }
            done += slice;
            total += slice;
        }
    }
    co_return Result{error_code{}, total};
}

asio::awaitable<TlsStream::Result> TlsStream::read_some(Socket& socket,
                                                        void* data,
                                                        std::size_t size) {
    if (size == 0) {
        co_return Result{error_code{}, 0};
    }
    const auto self = shared_from_this();
    for (;;) {
        if (broken_) {  // also: the transport (and its socket) went while the read waited
            co_return Result{asio::error::broken_pipe, 0};
        }
        ERR_clear_error();
        std::size_t n = 0;
        const int ret = SSL_read_ex(ssl_, data, size, &n);
        if (pending()) {
            // Reading made OpenSSL answer (a key update): send it if no write is under way,
            // else the writer's flush picks it up.
            error_code ignored;
            send_now(socket, ignored);
        }
        if (ret == 1) {
            co_return Result{error_code{}, n};
        }
        if (SSL_get_error(ssl_, ret) != SSL_ERROR_WANT_READ) {
            co_return Result{last_error(ret), 0};
        }
        if (auto ec = co_await fill(socket)) {
            co_return Result{ec, 0};
        }
    }
}

asio::awaitable<TlsStream::Result> TlsStream::send_file(Socket& socket,
                                                        int fd,
                                                        std::uint64_t offset,
                                                        std::uint64_t count) {
    const auto self = shared_from_this();
    std::uint64_t sent = 0;
    std::string chunk;
    chunk.resize(static_cast<std::size_t>(std::min<std::uint64_t>(count, file_chunk)));
    while (sent < count) {
        const auto want =
            static_cast<std::size_t>(std::min<std::uint64_t>(count - sent, chunk.size()));
        const ssize_t got = ::pread(fd, chunk.data(), want, static_cast<off_t>(offset + sent));
        if (got < 0) {
            if (errno == EINTR) {
                continue;
            }
            co_return Result{error_code(errno, boost::system::system_category()), sent};
        }
        if (got == 0) {
            co_return Result{asio::error::eof, sent};  // the file shrank
        }
        error_code ec;
        encrypt(chunk.data(), static_cast<std::size_t>(got), ec);
        auto sending = flush(socket, 0, ec);
        auto [flush_ec, n] = co_await std::move(sending);
        (void)n;
        if (flush_ec) {
            co_return Result{flush_ec, sent};
        }
        sent += static_cast<std::uint64_t>(got);
    }
    co_return Result{error_code{}, sent};
}

void TlsStream::close_notify(Socket& socket) noexcept {
    if (broken_ || SSL_is_init_finished(ssl_) != 1) {
        return;
    }
    ERR_clear_error();
    SSL_shutdown(ssl_);
    ERR_clear_error();
    error_code ignored;
    send_now(socket, ignored);
}

}  // namespace flamecpp::detail
