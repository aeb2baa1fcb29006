// WebSocket echo load for bench/run: C connections, each sending one message of S bytes and
// waiting for its echo before the next, for D seconds after a warm-up. Prints one line:
//   messages=N seconds=D rate=R p50_us=A p99_us=B errors=E all=M   (M: every echo, warm-up too)
// The handshakes are Beast's, made one after another before the clock starts. After them the
// client is a plain level-triggered epoll loop, like wrk's: each connection writes one prebuilt
// masked frame with send(2) and reads the echo with recv(2) when epoll reports it, so that no
// read is tried before the echo can be there and the load generator spends as little as
// possible per message (it shares the machine with the server under test).
// With --tls the connections are WSS: OpenSSL on the same sockets (TLS 1.3, no certificate
// check), SSL_write and SSL_read in place of send(2) and recv(2).
//   ws_load --port P [--path /ws] [--connections 64] [--duration 8] [--warmup 1] [--size 32]
//           [--tls]
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/program_options.hpp>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace asio = boost::asio;
namespace websocket = boost::beast::websocket;
namespace po = boost::program_options;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

/// A client text frame (FIN, opcode 1) of `size` bytes of 'x', masked with a fixed key.
std::string masked_frame(std::size_t size) {
    std::string frame;
    frame += static_cast<char>(0x81);
    if (size < 126) {
        frame += static_cast<char>(0x80 | size);
    } else {
        frame += static_cast<char>(0x80 | 126);
        frame += static_cast<char>((size >> 8) & 0xff);
        frame += static_cast<char>(size & 0xff);
    }
    const unsigned char key[4] = {0x12, 0x34, 0x56, 0x78};
    frame.append(reinterpret_cast<const char*>(key), 4);
    for (std::size_t i = 0; i < size; ++i) {
        frame += static_cast<char>('x' ^ key[i % 4]);
    }
    return frame;
}

/// One connection after its handshake: the frame in flight and the echo bytes received so far.
struct Connection {
    int fd = -1;
    SSL* ssl = nullptr;        // with --tls
    std::size_t written = 0;   // bytes of the current frame sent
    std::size_t received = 0;  // bytes of the current echo received
    Clock::time_point sent;
};

struct Totals {
    std::vector<std::uint32_t> rtt_ns;  // one per measured message
    std::uint64_t errors = 0;
    std::uint64_t all = 0;  // every echo, the warm-up's too (for CPU time per echo)
};

/// send(2), or SSL_write with its outcome in send(2)'s terms (-1 and EAGAIN to wait).
ssize_t send_some(Connection& c, const char* data, std::size_t size) {
    if (c.ssl == nullptr) {
        return ::send(c.fd, data, size, MSG_NOSIGNAL);
    }
    std::size_t n = 0;
    const int ret = SSL_write_ex(c.ssl, data, size, &n);
    if (ret == 1) {
        return static_cast<ssize_t>(n);
    }
    const int err = SSL_get_error(c.ssl, ret);
    errno = err == SSL_ERROR_WANT_WRITE || err == SSL_ERROR_WANT_READ ? EAGAIN : EPIPE;
    return -1;
}

/// recv(2), or SSL_read in recv(2)'s terms.
ssize_t recv_some(Connection& c, char* data, std::size_t size) {
    if (c.ssl == nullptr) {
        return ::recv(c.fd, data, size, 0);
    }
    std::size_t n = 0;
    const int ret = SSL_read_ex(c.ssl, data, size, &n);
    if (ret == 1) {
        return static_cast<ssize_t>(n);
    }
    const int err = SSL_get_error(c.ssl, ret);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
        errno = EAGAIN;
        return -1;
    }
    return 0;
}

/// Connects a WSS client: TCP, the TLS handshake and the WebSocket upgrade, all blocking.
SSL* connect_tls(SSL_CTX* ctx, int fd, const std::string& path) {
    SSL* ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    if (SSL_connect(ssl) != 1) {
        std::fprintf(stderr, "ws_load: TLS handshake failed\n");
        return nullptr;
    }
    const std::string request = "GET " + path +
                                " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                                "Connection: Upgrade\r\nSec-WebSocket-Key: "
                                "dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    std::size_t n = 0;
    if (SSL_write_ex(ssl, request.data(), request.size(), &n) != 1) {
        return nullptr;
    }
    std::string answer;
    char byte = 0;
    while (answer.size() < 4 || answer.compare(answer.size() - 4, 4, "\r\n\r\n") != 0) {
        if (SSL_read_ex(ssl, &byte, 1, &n) != 1) {  // one byte at a time: nothing past the head
            return nullptr;
        }
        answer += byte;
    }
    if (answer.rfind("HTTP/1.1 101", 0) != 0) {
        std::fprintf(stderr, "ws_load: not upgraded: %s\n", answer.c_str());
        return nullptr;
    }
    return ssl;
}

/// Sends the rest of the frame. False on a socket error; true otherwise, also when the socket
/// buffer is full (the connection then waits for EPOLLOUT).
bool send_rest(int epoll_fd, Connection& c, const std::string& frame) {
    while (c.written < frame.size()) {
        ssize_t n = send_some(c, frame.data() + c.written, frame.size() - c.written);
        if (n > 0) {
            c.written += static_cast<std::size_t>(n);
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            epoll_event ev{};
            ev.events = EPOLLIN | EPOLLOUT;
            ev.data.ptr = &c;
            return ::epoll_ctl(epoll_fd, EPOLL_CTL_MOD, c.fd, &ev) == 0;
        } else {
            return false;
        }
    }
    return true;
}

int main(int argc, char** argv) {
    unsigned short port = 0;
    std::string path;
    unsigned connections = 0;
    double duration = 0;
    double warmup = 0;
    std::size_t size = 0;
    bool tls = false;
    po::options_description options("ws_load options");
    options.add_options()("help", "this text")("port", po::value(&port)->required(),
                                               "server port on 127.0.0.1")(
        "path", po::value(&path)->default_value("/ws"), "WebSocket path")(
        "connections", po::value(&connections)->default_value(64), "concurrent connections")(
        "duration", po::value(&duration)->default_value(8), "measured seconds")(
        "warmup", po::value(&warmup)->default_value(1), "seconds before measuring")(
        "size", po::value(&size)->default_value(32), "message size in bytes (< 65536)")(
        "tls", po::bool_switch(&tls), "WSS: TLS to the server (its certificate is not checked)");
    try {
        po::variables_map vm;
        po::store(po::parse_command_line(argc, argv, options), vm);
        if (vm.count("help") != 0) {
            std::printf("%s", (std::ostringstream() << options).str().c_str());
            return 0;
        }
        po::notify(vm);
        if (size >= 65536 || connections == 0) {
            throw po::error("--size must be below 65536 and --connections above 0");
        }
    } catch (const po::error& e) {
        std::fprintf(stderr, "ws_load: %s\n", e.what());
        return 2;
    }

    // Handshakes, blocking, one connection at a time; each socket is then released to the loop.
    asio::io_context io{1};
    tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), port);
    std::vector<Connection> conns(connections);
    SSL_CTX* ssl_ctx = nullptr;
    if (tls) {
        ssl_ctx = SSL_CTX_new(TLS_client_method());
        SSL_CTX_set_verify(ssl_ctx, SSL_VERIFY_NONE, nullptr);
        // A writer's retry may come from the same frame at another address: the frame is
        // one std::string, but say so anyway.
        SSL_CTX_set_mode(ssl_ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    }
    for (auto& c : conns) {
        if (tls) {
            tcp::socket socket(io);
            socket.connect(endpoint);
            socket.set_option(tcp::no_delay(true));
            c.fd = socket.release();
            c.ssl = connect_tls(ssl_ctx, c.fd, path);
            if (c.ssl == nullptr) {
                return 1;
            }
            ::fcntl(c.fd, F_SETFL, ::fcntl(c.fd, F_GETFL) | O_NONBLOCK);
            continue;
        }
        try {
            websocket::stream<tcp::socket> ws(io);
            ws.next_layer().connect(endpoint);
            ws.next_layer().set_option(tcp::no_delay(true));
            ws.handshake("127.0.0.1", path);
            c.fd = ws.next_layer().release();
            ::fcntl(c.fd, F_SETFL, ::fcntl(c.fd, F_GETFL) | O_NONBLOCK);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "ws_load: handshake: %s\n", e.what());
            return 1;
        }
    }

    const std::string frame = masked_frame(size);
    // The server's frame: unmasked, FIN + text, then the 1- or 3-byte length, then the payload.
    const std::size_t echo_size = (size < 126 ? 2 : 4) + size;
    std::vector<char> echo(echo_size);
    Totals totals;
    totals.rtt_ns.reserve(1 << 22);

    int epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd < 0) {
        std::perror("ws_load: epoll_create1");
        return 1;
    }
    auto start = Clock::now();
    const auto measure_from =
        start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(warmup));
    const auto end = measure_from + std::chrono::duration_cast<Clock::duration>(
                                        std::chrono::duration<double>(duration));
    std::size_t active = 0;
    for (auto& c : conns) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.ptr = &c;
        if (::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, c.fd, &ev) != 0) {
            std::perror("ws_load: epoll_ctl");
            return 1;
        }
        c.sent = Clock::now();
        if (send_rest(epoll_fd, c, frame)) {
            ++active;
        } else {
            ++totals.errors;
        }
    }

    // Each connection has one frame outstanding. A connection that is answered after the end
    // stops; the loop ends when none is left.
    std::vector<epoll_event> events(connections);
    auto finish = [&](Connection& c) {
        ::epoll_ctl(epoll_fd, EPOLL_CTL_DEL, c.fd, nullptr);
        if (c.ssl != nullptr) {
            SSL_free(c.ssl);
            c.ssl = nullptr;
        }
        ::shutdown(c.fd, SHUT_RDWR);
        ::close(c.fd);
        c.fd = -1;
        --active;
    };
    while (active > 0) {
        int ready = ::epoll_wait(epoll_fd, events.data(), static_cast<int>(events.size()), 1000);
        if (ready < 0 && errno == EINTR) {
            continue;
        }
        if (ready <= 0) {  // an error, or a second without any echo: the server stalled
            totals.errors += active;
            break;
        }
        for (int i = 0; i < ready; ++i) {
            auto& c = *static_cast<Connection*>(events[i].data.ptr);
            if (c.fd < 0) {
                continue;
            }
            if ((events[i].events & EPOLLOUT) != 0 && c.written < frame.size()) {
                epoll_event ev{};
                ev.events = EPOLLIN;
                ev.data.ptr = &c;
                if (::epoll_ctl(epoll_fd, EPOLL_CTL_MOD, c.fd, &ev) != 0 ||
                    !send_rest(epoll_fd, c, frame)) {
                    ++totals.errors;
                    finish(c);
                    continue;
                }
            }
            if ((events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) == 0) {
                continue;
            }
            // TLS keeps what a record held beyond the call's room: read until the echo is
            // whole or nothing more is there (epoll would not report bytes OpenSSL holds).
            bool failed = false;
            while (c.received < echo_size) {
                ssize_t n = recv_some(c, echo.data() + c.received, echo_size - c.received);
                if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
                    break;
                }
                if (n <= 0 || static_cast<unsigned char>(echo[0]) != 0x81) {
                    failed = true;
                    break;
                }
                c.received += static_cast<std::size_t>(n);
            }
            if (failed) {
                ++totals.errors;
                finish(c);
                continue;
            }
            if (c.received < echo_size) {
                continue;
            }
            ++totals.all;
            auto now = Clock::now();
            if (now >= measure_from && now < end) {
                totals.rtt_ns.push_back(static_cast<std::uint32_t>(
                    std::chrono::duration_cast<std::chrono::nanoseconds>(now - c.sent).count()));
            }
            if (now >= end) {
                finish(c);
                continue;
            }
            c.received = 0;
            c.written = 0;
            c.sent = now;
            if (!send_rest(epoll_fd, c, frame)) {
                ++totals.errors;
                finish(c);
            }
        }
    }
    for (auto& c : conns) {
        if (c.fd >= 0) {
            ::close(c.fd);
        }
    }
    ::close(epoll_fd);

    auto& rtt = totals.rtt_ns;
    std::sort(rtt.begin(), rtt.end());
    auto percentile = [&](double p) -> double {
        if (rtt.empty()) {
            return 0;
        }
        return rtt[std::min(rtt.size() - 1, static_cast<std::size_t>(p * rtt.size()))] / 1000.0;
    };
    std::printf(
        "messages=%zu seconds=%.2f rate=%.0f p50_us=%.1f p99_us=%.1f errors=%llu all=%llu\n",
        rtt.size(), duration, rtt.size() / duration, percentile(0.50), percentile(0.99),
        static_cast<unsigned long long>(totals.errors),
        static_cast<unsigned long long>(totals.all));
    return totals.errors == 0 ? 0 : 1;
}
