// The machine's floor for bench/run: the least a server can do per request on this stack of
// kernel and loopback TCP. One thread, level-triggered epoll, one recv(2) per readable event,
// every complete request in the buffer answered, and one send(2) for all their responses.
// No framework, no coroutines, no parser beyond finding the end of the header block: it
// serves bodiless GET /plaintext and GET /json (canned answers with a Date header made once
// a second) and nothing else. Anything else gets a 404, or a 400 and a close. Connections
// stay open whatever the request says; a benchmark reference, not a server to deploy.
// GET /ws with a Sec-WebSocket-Key is the echo floor: the upgrade, then every complete
// client frame of a read echoed (unmasked, with its FIN and opcode; a ping gets its pong, a
// close its close), all in one send(2). Frames must fit the 8 KiB buffer; no extensions, no
// UTF-8 check.
//   epoll_ref PORT     (0: any free port; the line "listening on http://127.0.0.1:PORT" says which)
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
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "canned.hpp"

namespace {

using canned::Answers;
using canned::Connection;

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
    socklen_t addr_size = sizeof(addr);
    getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &addr_size);
    std::printf("listening on http://127.0.0.1:%d\n", int(ntohs(addr.sin_port)));  // PORT 0: any
    std::fflush(stdout);
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
            respond(*c, answers, out);
            if (!out.empty()) {
                send_or_queue(fd, *c, out);
            }
        }
    }
}
