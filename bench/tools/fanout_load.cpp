// Fan-out load for bench/run and the room sample's contract test: L WebSocket listeners in one
// room of the `room` sample, spread over one or more processes (--ports), and one publisher,
// on the first port, that sends `m SEQ T` (T: the steady clock in ns at the send) at a fixed
// rate. Every listener checks that it gets every message, in order; the publish-to-delivery
// latency is taken from T (the steady clock is the same for every process on a machine).
//
// First the publisher sends warm-up messages until every listener has had one (a new
// listener's subscription, with Redis another process's, takes a moment to be in place).
// Then it sends --messages messages at --rate a second and waits for the last to arrive
// everywhere (while they keep arriving; 5 s without one ends the wait). Prints one line:
//   listeners=L messages=M delivered=D expected=E missing=X disordered=Y seconds=S
//   rate=R p50_us=A p99_us=B
// (after a first line `warm` once the warm-up is over) and exits 1 when a message is missing or out
// of order, or a listener failed.
//   fanout_load --ports P1[,P2...] [--room bench] [--listeners 1000] [--messages 2000]
//               [--rate 500]
// The handshakes are Beast's; after them it is one level-triggered epoll loop with recv(2)
// and send(2), as ws_load is.
#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/program_options.hpp>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

namespace asio = boost::asio;
namespace websocket = boost::beast::websocket;
namespace po = boost::program_options;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

std::int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
        .count();
}

/// A client text frame (FIN, opcode 1), masked with a zero key (allowed: the key is random
/// for browsers' sake, not the server's).
std::string masked_frame(std::string_view text) {
    std::string frame;
    frame += static_cast<char>(0x81);
    if (text.size() < 126) {
        frame += static_cast<char>(0x80 | text.size());
    } else {
        frame += static_cast<char>(0x80 | 126);
        frame += static_cast<char>((text.size() >> 8) & 0xff);
        frame += static_cast<char>(text.size() & 0xff);
    }
    frame.append(4, '\0');
    frame.append(text);
    return frame;
}

struct Listener {
    int fd = -1;
    std::string in;
    bool publisher = false;  ///< the publisher's own connection: read and ignored
    bool warm = false;       ///< has had a warm-up message
    std::int64_t next = 0;   ///< the next measured sequence number expected
    std::uint64_t missing = 0;
    std::uint64_t disordered = 0;
    bool failed = false;
};

struct Totals {
    std::uint64_t delivered = 0;
    std::vector<std::uint32_t> latency_us;
};

/// Takes the complete frames out of `l.in` and counts their messages.
void consume(Listener& l, Totals& totals, std::int64_t now) {
    std::size_t at = 0;
    const std::string& in = l.in;
    for (;;) {
        if (in.size() - at < 2) {
            break;
        }
        const auto b0 = static_cast<unsigned char>(in[at]);
        const auto b1 = static_cast<unsigned char>(in[at + 1]);
        std::size_t header = 2;
        std::uint64_t length = b1 & 0x7f;
        if (length == 126) {
            if (in.size() - at < 4) {
                break;
            }
            length = (std::uint64_t{static_cast<unsigned char>(in[at + 2])} << 8) |
                     static_cast<unsigned char>(in[at + 3]);
            header = 4;
        } else if (length == 127) {
            if (in.size() - at < 10) {
                break;
            }
            length = 0;
            for (int i = 0; i < 8; ++i) {
                length = (length << 8) | static_cast<unsigned char>(in[at + 2 + i]);
            }
            header = 10;
        }
        if (in.size() - at < header + length) {
            break;
        }
        const std::string_view payload(in.data() + at + header, length);
        at += header + length;
        const int opcode = b0 & 0x0f;
        if (opcode == 0x8) {  // close
            l.failed = true;
            continue;
        }
        if (opcode != 0x1 || l.publisher) {
            continue;
        }
        // {"room":"R","text":"m SEQ T"} or ... "text":"w K"
        const std::size_t text = payload.find("\"text\":\"");
        if (text == std::string_view::npos) {
            continue;
        }
        const std::string_view body = payload.substr(text + 8);
        if (body.starts_with("w ")) {
            l.warm = true;
            continue;
        }
        if (!body.starts_with("m ")) {
            continue;
        }
        std::int64_t seq = 0;
        std::int64_t sent = 0;
        const char* p = body.data() + 2;
        const char* end = body.data() + body.size();
        auto r1 = std::from_chars(p, end, seq);
        if (r1.ec != std::errc{} || r1.ptr == end) {
            continue;
        }
        auto r2 = std::from_chars(r1.ptr + 1, end, sent);
        if (r2.ec != std::errc{}) {
            continue;
        }
        if (seq != l.next) {
            if (seq > l.next) {
                l.missing += static_cast<std::uint64_t>(seq - l.next);
            } else {
                ++l.disordered;
            }
        }
        l.next = std::max(l.next, seq + 1);
        ++totals.delivered;
        totals.latency_us.push_back(
            static_cast<std::uint32_t>(std::max<std::int64_t>(0, (now - sent) / 1000)));
    }
    l.in.erase(0, at);
}

int open_listener(asio::io_context& io, std::uint16_t port, const std::string& target) {
    websocket::stream<tcp::socket> ws(io);
    ws.next_layer().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    ws.handshake("127.0.0.1", target);
    const int fd = ws.next_layer().release();
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

}  // namespace

int main(int argc, char** argv) {
    std::string ports_text;
    std::string room = "bench";
    std::size_t listeners = 1000;
    std::int64_t messages = 2000;
    double rate = 500;
    po::options_description options("fanout_load");
    options.add_options()("ports", po::value(&ports_text)->required(), "P1[,P2...]")(
        "room", po::value(&room), "the room")("listeners", po::value(&listeners), "listeners")(
        "messages", po::value(&messages), "measured messages")("rate", po::value(&rate),
                                                               "messages a second");
    std::vector<std::uint16_t> ports;
    try {
        po::variables_map vm;
        po::store(po::parse_command_line(argc, argv, options), vm);
        po::notify(vm);
        std::stringstream list(ports_text);
        for (std::string item; std::getline(list, item, ',');) {
            ports.push_back(static_cast<std::uint16_t>(std::stoul(item)));
        }
        if (ports.empty() || rate <= 0 || messages <= 0) {
            throw std::invalid_argument("--ports, --rate and --messages must be given and > 0");
        }
    } catch (const std::exception& e) {
        std::ostringstream usage;
        usage << options;
        std::fprintf(stderr, "fanout_load: %s\n%s", e.what(), usage.str().c_str());
        return 2;
    }

    // A descriptor per listener: past the usual soft limit of 1,024.
    rlimit files{};
    if (::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
        files.rlim_cur = files.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &files);
    }
    asio::io_context io;
    const std::string target = "/ws/" + room;
    std::vector<Listener> all(listeners + 1);
    const int epoll = ::epoll_create1(EPOLL_CLOEXEC);
    try {
        for (std::size_t i = 0; i <= listeners; ++i) {
            // The last one publishes, on the first port; the listeners take the ports in turn.
            Listener& l = all[i];
            l.publisher = i == listeners;
            l.fd = open_listener(io, l.publisher ? ports.front() : ports[i % ports.size()], target);
            epoll_event event{};
            event.events = EPOLLIN;
            event.data.u64 = i;
            ::epoll_ctl(epoll, EPOLL_CTL_ADD, l.fd, &event);
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "fanout_load: connecting: %s\n", e.what());
        return 1;
    }
    Listener& publisher = all.back();

    Totals totals;
    totals.latency_us.reserve(listeners * static_cast<std::size_t>(messages));
    std::vector<epoll_event> events(1024);
    std::vector<char> buffer(std::size_t{256} * 1024);
    auto send_text = [&publisher](const std::string& text) {
        const std::string frame = masked_frame(text);
        std::size_t done = 0;
        while (done < frame.size()) {
            const ssize_t n =
                ::send(publisher.fd, frame.data() + done, frame.size() - done, MSG_NOSIGNAL);
            if (n < 0 && errno != EAGAIN) {
                return false;
            }
            done += n > 0 ? static_cast<std::size_t>(n) : 0;
        }
        return true;
    };
    // Reads what is there, waiting at most `wait_ms`.
    auto poll = [&](int wait_ms) {
        const int n = ::epoll_wait(epoll, events.data(), static_cast<int>(events.size()), wait_ms);
        const std::int64_t now = now_ns();
        for (int k = 0; k < n; ++k) {
            Listener& l = all[events[k].data.u64];
            for (;;) {
                const ssize_t got = ::recv(l.fd, buffer.data(), buffer.size(), 0);
                if (got > 0) {
                    l.in.append(buffer.data(), static_cast<std::size_t>(got));
                    if (static_cast<std::size_t>(got) < buffer.size()) {
                        break;
                    }
                    continue;
                }
                if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
                    l.failed = true;
                    ::epoll_ctl(epoll, EPOLL_CTL_DEL, l.fd, nullptr);
                }
                break;
            }
            consume(l, totals, now);
        }
    };

    // Warm-up: until every listener has heard the room.
    const auto warm_deadline = Clock::now() + std::chrono::seconds(20);
    for (int k = 0;; ++k) {
        const bool all_warm = std::all_of(all.begin(), all.end() - 1,
                                          [](const Listener& l) { return l.warm || l.failed; });
        if (all_warm) {
            break;
        }
        if (Clock::now() > warm_deadline) {
            std::fprintf(stderr, "fanout_load: some listeners never heard the room\n");
            return 1;
        }
        if (!send_text("w " + std::to_string(k))) {
            std::fprintf(stderr, "fanout_load: the publisher's connection failed\n");
            return 1;
        }
        const auto until = Clock::now() + std::chrono::milliseconds(50);
        while (Clock::now() < until) {
            poll(10);
        }
    }
    totals.delivered = 0;
    totals.latency_us.clear();
    // For bench/run: the servers' CPU time is read from here on (the handshakes and warm-up
    // are not what is measured).
    std::printf("warm\n");
    std::fflush(stdout);

    const auto start = Clock::now();
    const auto interval = std::chrono::duration<double>(1.0 / rate);
    for (std::int64_t seq = 0; seq < messages;) {
        const auto due = start + std::chrono::duration_cast<Clock::duration>(interval * seq);
        const auto now = Clock::now();
        if (now >= due) {
            if (!send_text("m " + std::to_string(seq) + " " + std::to_string(now_ns()))) {
                std::fprintf(stderr, "fanout_load: the publisher's connection failed\n");
                return 1;
            }
            ++seq;
            continue;
        }
        const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(due - now).count();
        poll(static_cast<int>(std::max<std::int64_t>(0, wait)));
    }
    // The last messages: waited for while they keep coming (a slow build of the server may
    // lag far behind), given up after 5 s without one.
    const std::uint64_t expected = listeners * static_cast<std::uint64_t>(messages);
    auto last_progress = Clock::now();
    while (totals.delivered < expected && Clock::now() - last_progress < std::chrono::seconds(5)) {
        const std::uint64_t before = totals.delivered;
        poll(10);
        if (totals.delivered != before) {
            last_progress = Clock::now();
        }
    }
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();

    std::uint64_t missing = 0;
    std::uint64_t disordered = 0;
    std::size_t failed = 0;
    for (std::size_t i = 0; i < listeners; ++i) {
        const Listener& l = all[i];
        missing += l.missing + static_cast<std::uint64_t>(messages - l.next);
        disordered += l.disordered;
        failed += l.failed ? 1 : 0;
    }
    std::uint32_t p50 = 0;
    std::uint32_t p99 = 0;
    auto& lat = totals.latency_us;
    if (!lat.empty()) {
        std::nth_element(lat.begin(), lat.begin() + static_cast<std::ptrdiff_t>(lat.size() / 2),
                         lat.end());
        p50 = lat[lat.size() / 2];
        std::nth_element(lat.begin(),
                         lat.begin() + static_cast<std::ptrdiff_t>(lat.size() * 99 / 100),
                         lat.end());
        p99 = lat[lat.size() * 99 / 100];
    }
    std::printf(
        "listeners=%zu messages=%lld delivered=%llu expected=%llu missing=%llu disordered=%llu "
        "failed=%zu seconds=%.3f rate=%.0f p50_us=%u p99_us=%u\n",
        listeners, static_cast<long long>(messages),
        static_cast<unsigned long long>(totals.delivered),
        static_cast<unsigned long long>(expected), static_cast<unsigned long long>(missing),
        static_cast<unsigned long long>(disordered), failed, seconds,
        static_cast<double>(totals.delivered) / seconds, p50, p99);
    std::fflush(stdout);
    for (const Listener& l : all) {
        ::close(l.fd);
    }
    return missing == 0 && disordered == 0 && failed == 0 ? 0 : 1;
}
