// The machine's floor for bench/run: the least a server can do per request on this stack of
// kernel and loopback TCP. One thread, level-triggered epoll, one recv(2) per readable event,
// every complete request in the buffer answered, and one send(2) for all their responses.
// No framework, no coroutines, no parser beyond finding the end of the header block: it
// serves bodiless GET /plaintext and GET /json (canned answers with a Date header made once
// a second) and nothing else. Anything else gets a 404, or a 400 and a close. Connections
// stay open whatever the request says; a benchmark reference, not a server to deploy.
// GET /ws with a Sec-WebSocket-Key is the echo floor: the upgrade, then every complete
// client frame of a read echoed (unmasked, the same opcode; a ping gets its pong, a close its
// close), all in one send(2). Frames must fit the 8 KiB buffer; no extensions, no UTF-8 check.
//   epoll_ref PORT
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "canned.hpp"

namespace {

using canned::Answers;

struct Connection : canned::Connection {
    bool websocket = false;  // upgraded: what arrives is frames
};

/// The value of the field `lower_name` ("sec-websocket-key:") in `head`, trimmed; empty if none.
std::string_view field_value(std::string_view head, std::string_view lower_name) {
    for (std::size_t at = head.find('\n'); at != std::string_view::npos;
         at = head.find('\n', at + 1)) {
        std::string_view line = head.substr(at + 1);
        if (line.size() < lower_name.size()) {
            continue;
        }
        bool same = true;
        for (std::size_t i = 0; i < lower_name.size() && same; ++i) {
            char ch = line[i];
            same = (ch >= 'A' && ch <= 'Z' ? char(ch - 'A' + 'a') : ch) == lower_name[i];
        }
        if (!same) {
            continue;
        }
        std::string_view value =
            line.substr(lower_name.size(), line.find('\r') - lower_name.size());
        while (!value.empty() && value.front() == ' ') {
            value.remove_prefix(1);
        }
        return value;
    }
    return {};
}

/// A complete `GET /ws` head at the start of `c.in`: answered with 101 (or a 400 and a close
/// without a key) and consumed. False: not an upgrade, or its head is not all in yet.
bool upgrade(Connection& c, std::string& out) {
    std::string_view data(c.in.data(), c.used);
    if (!data.starts_with("GET /ws ")) {
        return false;
    }
    const std::size_t end = data.find("\r\n\r\n");
    if (end == std::string_view::npos) {
        return false;
    }
    const std::string_view key = field_value(data.substr(0, end + 2), "sec-websocket-key:");
    if (key.empty() || key.size() > 64) {
        out += "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
        c.close_after = true;
        return true;
    }
    std::string both(key);
    both += "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";  // RFC 6455 4.2.2
    unsigned char digest[SHA_DIGEST_LENGTH];
    SHA1(reinterpret_cast<const unsigned char*>(both.data()), both.size(), digest);
    unsigned char accept[4 * ((SHA_DIGEST_LENGTH + 2) / 3) + 1];
    EVP_EncodeBlock(accept, digest, SHA_DIGEST_LENGTH);
    out +=
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Accept: ";
    out += reinterpret_cast<const char*>(accept);
    out += "\r\n\r\n";
    const std::size_t done = end + 4;
    std::memmove(c.in.data(), c.in.data() + done, c.used - done);
    c.used -= done;
    c.websocket = true;
    return true;
}

/// Echoes every complete frame in `c.in` into `out` and drops them from `c.in`. An unmasked
/// frame, or one larger than the buffer, closes the connection (after a close frame).
void echo(Connection& c, std::string& out) {
    const auto* in = reinterpret_cast<const unsigned char*>(c.in.data());
    std::size_t done = 0;
    while (!c.close_after && c.used - done >= 2) {
        const unsigned char* f = in + done;
        const std::size_t avail = c.used - done;
        const unsigned opcode = f[0] & 0x0fU;
        const bool masked = (f[1] & 0x80U) != 0;
        std::uint64_t length = f[1] & 0x7fU;
        std::size_t head = 2;
        if (length == 126) {
            head = 4;
        } else if (length == 127) {
            head = 10;
        }
        if (avail < head + 4) {
            break;
        }
        if (head == 4) {
            length = (std::uint64_t(f[2]) << 8) | f[3];
        } else if (head == 10) {
            length = 0;
            for (int i = 2; i < 10; ++i) {
                length = (length << 8) | f[i];
            }
        }
        if (!masked || length > c.in.size() - head - 4) {
            out += std::string_view("\x88\x02\x03\xea", 4);  // close 1002
            c.close_after = true;
            break;
        }
        if (avail < head + 4 + length) {
            break;
        }
        const unsigned char* mask = f + head;
        const unsigned char* payload = mask + 4;
        if (opcode == 0xa) {
            done += head + 4 + length;  // a pong: nothing to answer
            continue;
        }
        const unsigned reply = opcode == 0x9 ? 0xaU : opcode;  // a ping's pong
        out += char(0x80U | reply);
        if (length < 126) {
            out += char(length);
        } else if (length < 65536) {
            out += char(126);
            out += char(length >> 8);
            out += char(length & 0xffU);
        } else {
            out += char(127);
            for (int shift = 56; shift >= 0; shift -= 8) {
                out += char((length >> shift) & 0xffU);
            }
        }
        const std::size_t at = out.size();
        out.append(payload, payload + length);
        for (std::size_t i = 0; i < length; ++i) {
            out[at + i] = char(out[at + i] ^ char(mask[i & 3]));
        }
        if (opcode == 0x8) {
            c.close_after = true;  // the close echoed: done
        }
        done += head + 4 + length;
    }
    std::memmove(c.in.data(), c.in.data() + done, c.used - done);
    c.used -= done;
}

[[noreturn]] void die(const char* what) {
    std::perror(what);
    std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: epoll_ref PORT\n");
        return 2;
    }
    const int port = std::atoi(argv[1]);
    int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
        die("bind");
    }
    if (listen(listener, 4096) != 0) {
        die("listen");
    }
    int ep = epoll_create1(0);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = listener;
    epoll_ctl(ep, EPOLL_CTL_ADD, listener, &ev);

    std::vector<std::unique_ptr<Connection>> conns;
    Answers answers("epoll-ref");
    std::string out;
    std::vector<epoll_event> events(256);

    auto close_conn = [&](int fd) {
        close(fd);  // also leaves the epoll set
        conns[fd].reset();
    };
    // Sends `bytes` now; what the kernel does not take waits for EPOLLOUT.
    auto send_or_queue = [&](int fd, Connection& c, std::string_view bytes) {
        ssize_t n = send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n < 0 && errno != EAGAIN) {
            close_conn(fd);
            return;
        }
        std::size_t sent = n < 0 ? 0 : std::size_t(n);
        if (sent < bytes.size()) {
            c.out.assign(bytes.substr(sent));
            epoll_event want{};
            want.events = EPOLLOUT;
            want.data.fd = fd;
            epoll_ctl(ep, EPOLL_CTL_MOD, fd, &want);
        } else if (c.close_after) {
            close_conn(fd);
        }
    };

    for (;;) {
        int ready = epoll_wait(ep, events.data(), int(events.size()), -1);
        if (ready < 0) {
            if (errno == EINTR) {
                continue;
            }
            die("epoll_wait");
        }
        answers.refresh(std::time(nullptr));
        for (int i = 0; i < ready; ++i) {
            const int fd = events[i].data.fd;
            if (fd == listener) {
                for (;;) {
                    int client = accept4(listener, nullptr, nullptr, SOCK_NONBLOCK);
                    if (client < 0) {
                        break;  // EAGAIN, or out of descriptors: try again at the next event
                    }
                    setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
                    if (std::size_t(client) >= conns.size()) {
                        conns.resize(std::size_t(client) + 1);
                    }
                    conns[client] = std::make_unique<Connection>();
                    epoll_event want{};
                    want.events = EPOLLIN;
                    want.data.fd = client;
                    epoll_ctl(ep, EPOLL_CTL_ADD, client, &want);
                }
                continue;
            }
            Connection* c = std::size_t(fd) < conns.size() ? conns[fd].get() : nullptr;
            if (c == nullptr) {
                continue;  // closed earlier in this batch
            }
            if (!c->out.empty()) {
                std::string pending = std::move(c->out);
                c->out.clear();
                epoll_event want{};
                want.events = EPOLLIN;
                want.data.fd = fd;
                epoll_ctl(ep, EPOLL_CTL_MOD, fd, &want);
                send_or_queue(fd, *c, pending);
                continue;
            }
            ssize_t n = recv(fd, c->in.data() + c->used, c->in.size() - c->used, 0);
            if (n <= 0) {
                if (n < 0 && errno == EAGAIN) {
                    continue;
                }
                close_conn(fd);
                continue;
            }
            c->used += std::size_t(n);
            out.clear();
            if (c->websocket) {
                echo(*c, out);
            } else if (upgrade(*c, out)) {
                if (c->websocket) {
                    echo(*c, out);  // frames sent right after the head
                }
            } else {
                answer(*c, answers, out);
            }
            if (!out.empty()) {
                send_or_queue(fd, *c, out);
            }
        }
    }
}
