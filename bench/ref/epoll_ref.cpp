// The machine's floor for bench/run: the least a server can do per request on this stack of
// kernel and loopback TCP. One thread, level-triggered epoll, one recv(2) per readable event,
// every complete request in the buffer answered, and one send(2) for all their responses.
// No framework, no coroutines, no parser beyond finding the end of the header block: it
// serves bodiless GET /plaintext and GET /json (canned answers with a Date header made once
// a second) and nothing else. Anything else gets a 404, or a 400 and a close. Connections
// stay open whatever the request says; a benchmark reference, not a server to deploy.
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
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace {

constexpr std::size_t buffer_size = 8192;  // one header block must fit

struct Connection {
    std::vector<char> in = std::vector<char>(buffer_size);
    std::size_t used = 0;
    std::string out;  // what a send(2) did not take; no reading until it is gone
    bool close_after = false;
};

/// The canned answers, rebuilt when the second (and so the Date header) changes.
class Answers {
public:
    Answers()
        : json_body_(boost::json::serialize(boost::json::value{{"message", "Hello, World!"}})) {}

    void refresh(std::time_t now) {
        if (now == second_) {
            return;
        }
        second_ = now;
        std::tm tm{};
        gmtime_r(&now, &tm);
        char date[64];
        std::strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
        plaintext_ = make("200 OK", date, "text/plain", "Hello, World!");
        json_ = make("200 OK", date, "application/json", json_body_);
        not_found_ = make("404 Not Found", date, "text/plain", "Not Found");
        bad_request_ = make("400 Bad Request", date, "text/plain", "Bad Request");
    }

    const std::string& plaintext() const { return plaintext_; }
    const std::string& json() const { return json_; }
    const std::string& not_found() const { return not_found_; }
    const std::string& bad_request() const { return bad_request_; }

private:
    static std::string make(const char* status,
                            const char* date,
                            const char* type,
                            std::string_view body) {
        std::string s = "HTTP/1.1 ";
        s += status;
        s += "\r\nServer: epoll-ref\r\nDate: ";
        s += date;
        s += "\r\nContent-Type: ";
        s += type;
        s += "\r\nContent-Length: ";
        s += std::to_string(body.size());
        s += "\r\n\r\n";
        s += body;
        return s;
    }

    std::string json_body_;
    std::time_t second_ = -1;
    std::string plaintext_, json_, not_found_, bad_request_;
};

bool has_field(std::string_view head, std::string_view lower_name) {
    for (std::size_t at = head.find('\n'); at != std::string_view::npos;
         at = head.find('\n', at + 1)) {
        std::string_view line = head.substr(at + 1);
        if (line.size() < lower_name.size()) {
            continue;
        }
        bool same = true;
        for (std::size_t i = 0; i < lower_name.size() && same; ++i) {
            char c = line[i];
            same = (c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c) == lower_name[i];
        }
        if (same) {
            return true;
        }
    }
    return false;
}

/// Appends the answers to every complete request in `c.in` to `out`, and drops those requests
/// from `c.in`. A refused request sets `c.close_after`: the connection closes once `out` is sent.
void answer(Connection& c, const Answers& answers, std::string& out) {
    std::string_view data(c.in.data(), c.used);
    std::size_t done = 0;
    for (;;) {
        std::size_t end = data.find("\r\n\r\n", done);
        if (end == std::string_view::npos) {
            break;
        }
        std::string_view head = data.substr(done, end + 2 - done);
        done = end + 4;
        const bool get = head.starts_with("GET ");
        if (!get || has_field(head, "content-length:") || has_field(head, "transfer-encoding:")) {
            out += answers.bad_request();  // a body this server would not read
            c.close_after = true;
            break;
        }
        std::string_view target = head.substr(4, head.find(' ', 4) - 4);
        if (target == "/plaintext") {
            out += answers.plaintext();
        } else if (target == "/json") {
            out += answers.json();
        } else {
            out += answers.not_found();
        }
    }
    if (done > 0) {
        std::memmove(c.in.data(), c.in.data() + done, c.used - done);
        c.used -= done;
    }
    if (!c.close_after && c.used == c.in.size()) {
        out += answers.bad_request();  // a header block larger than the buffer
        c.close_after = true;
    }
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
    Answers answers;
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
            answer(*c, answers, out);
            if (!out.empty()) {
                send_or_queue(fd, *c, out);
            }
        }
    }
}
