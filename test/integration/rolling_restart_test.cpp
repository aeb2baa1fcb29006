// Rolling restarts on one port: a second `bench` process started with --reuse-port listens
// beside the first (SO_REUSEPORT), the first is sent SIGTERM, takes what its kernel queue
// holds, stops accepting and drains. Clients hammering the port all along, one new connection
// per request, see every request answered: none refused, none reset, none cut off.
//
// One thing is the kernel's: a handshake still in flight (SYN received, final ACK not yet)
// when a listener closes is dropped, and its client is reset, unless net.ipv4.tcp_migrate_req
// is 1 (Linux 5.14+), which hands it to another listener of the port. ctest runs this test
// twice: as it is, where a few such resets are allowed, and in a network namespace of its
// own with the setting on (integration/with_migrate_req.sh), where none is.
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "process.hpp"

namespace flamecpp::test {
namespace {

using namespace std::chrono_literals;

/// One request on a new connection ("Connection: close"): "ok", or what went wrong.
std::string one_request(std::uint16_t port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return std::string("socket: ") + std::strerror(errno);
    }
    timeval timeout{.tv_sec = 5, .tv_usec = 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    std::string outcome;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        outcome = std::string("connect: ") + std::strerror(errno);
    } else {
        const std::string request =
            "GET /plaintext HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
        if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) !=
            static_cast<ssize_t>(request.size())) {
            outcome = std::string("send: ") + std::strerror(errno);
        } else {
            std::string answer;
            char buffer[4096];
            for (;;) {
                const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
                if (n > 0) {
                    answer.append(buffer, static_cast<std::size_t>(n));
                    continue;
                }
                if (n < 0) {
                    outcome = std::string("recv: ") + std::strerror(errno);
                }
                break;
            }
            if (outcome.empty()) {
                outcome = answer.starts_with("HTTP/1.1 200 ") ? "ok"
                          : answer.empty()                    ? "closed without an answer"
                                                              : "answered: " + answer.substr(0, 40);
            }
        }
    }
    ::close(fd);
    return outcome;
}

/// Clients sending requests to `port` until stopped, counting the outcomes.
class Hammer {
public:
    explicit Hammer(std::uint16_t port, int clients = 4) {
        for (int i = 0; i < clients; ++i) {
            threads_.emplace_back([this, port] {
                while (!stop_) {
                    const std::string outcome = one_request(port);
                    const std::lock_guard lock(mutex_);
                    ++outcomes_[outcome];
                }
            });
        }
    }
    std::map<std::string, int> stop() {
        stop_ = true;
        for (auto& t : threads_) {
            t.join();
        }
        threads_.clear();
        return outcomes_;
    }
    int ok() {
        const std::lock_guard lock(mutex_);
        return outcomes_["ok"];
    }
    ~Hammer() {
        if (!threads_.empty()) {
            stop();
        }
    }

private:
    std::atomic<bool> stop_{false};
    std::mutex mutex_;
    std::map<std::string, int> outcomes_;
    std::vector<std::thread> threads_;
};

std::string describe(const std::map<std::string, int>& outcomes) {
    std::string out;
    for (const auto& [what, count] : outcomes) {
        out += "\n  " + std::to_string(count) + " x " + what;
    }
    return out;
}

TEST(RollingRestart, ANewProcessTakesOverThePortWithoutALostRequest) {
    auto old_server =
        SampleProcess::start(FLAMECPP_SAMPLE_BENCH, {"--threads", "2", "--log-level", "warn"});
    const std::uint16_t port = old_server.port();
    Hammer hammer(port);
    std::this_thread::sleep_for(500ms);
    ASSERT_GT(hammer.ok(), 0) << "the first process does not answer";

    SampleProcess new_server(FLAMECPP_SAMPLE_BENCH, {"--port", std::to_string(port), "--threads",
                                                     "2", "--log-level", "warn", "--reuse-port"});
    new_server.wait_for_listening();
    EXPECT_EQ(new_server.port(), port);
    std::this_thread::sleep_for(500ms);  // both serve the port
    EXPECT_EQ(old_server.stop(SIGTERM), 0) << "the old process did not drain and exit cleanly";
    const int at_swap = hammer.ok();
    std::this_thread::sleep_for(500ms);  // the new one alone
    const auto outcomes = hammer.stop();

    int ok = 0;
    int refused = 0;
    int failed = 0;
    for (const auto& [what, count] : outcomes) {
        (what == "ok" ? ok : failed) += count;
        refused += what.find("refused") != std::string::npos ? count : 0;
    }
    EXPECT_GT(ok, at_swap) << "nothing was answered after the old process left";
    EXPECT_EQ(refused, 0) << "the port had no listener at some point:" << describe(outcomes);
    std::ifstream migrate_file("/proc/sys/net/ipv4/tcp_migrate_req");
    int migrate = 0;
    migrate_file >> migrate;
    if (migrate == 1) {
        EXPECT_EQ(failed, 0) << "requests that failed during the swap:" << describe(outcomes);
    } else {
        // The kernel may reset a handshake in flight at the instant an old listener closes
        // (measured here: none in 10 swaps at ~5,000 new connections a second).
        EXPECT_LE(failed, 3) << "requests that failed during the swap:" << describe(outcomes);
    }
    std::cout << ok << " requests answered during the swap, " << failed
              << " failed (net.ipv4.tcp_migrate_req = " << migrate << ")\n";
    EXPECT_TRUE(new_server.running());
}

TEST(RollingRestart, WithoutReusePortATakenPortIsAnError) {
    auto first = SampleProcess::start(FLAMECPP_SAMPLE_BENCH, {"--threads", "1"});
    const RunResult second = SampleProcess::run_to_exit(
        FLAMECPP_SAMPLE_BENCH, {"--port", std::to_string(first.port()), "--threads", "1"});
    EXPECT_EQ(second.exit_code, 1);
    EXPECT_NE(second.stderr_text.find("cannot listen on 127.0.0.1:" + std::to_string(first.port()) +
                                      ": Address already in use"),
              std::string::npos)
        << second.stderr_text;
}

}  // namespace
}  // namespace flamecpp::test
