#include "process.hpp"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <utility>

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace flamecpp::test {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr std::string_view kListeningPrefix = "listening on http://";

std::string errno_text(int err) { return std::strerror(err); }

[[noreturn]] void throw_errno(const std::string& what) {
    throw std::runtime_error(what + ": " + errno_text(errno));
}

void close_fd(int& fd) {
    if (fd >= 0) {
        ::close(fd);
        fd = -1;
    }
}

// Milliseconds left until `deadline`, rounded up so that poll() never spins with 0 while time
// remains; 0 once the deadline has passed.
int poll_timeout(Clock::time_point deadline) {
    const auto left = deadline - Clock::now();
    if (left <= Clock::duration::zero())
        return 0;
    const auto ms = std::chrono::ceil<milliseconds>(left).count();
    return static_cast<int>(std::min<long long>(ms, INT_MAX));
}

int open_pidfd(pid_t pid) {
#ifdef SYS_pidfd_open
    const long fd = ::syscall(SYS_pidfd_open, pid, 0);
    if (fd >= 0) {
        ::fcntl(static_cast<int>(fd), F_SETFD, FD_CLOEXEC);
        return static_cast<int>(fd);
    }
#else
    (void)pid;
#endif
    return -1;  // Old kernel or seccomp: fall back to polling waitpid().
}

// fork()+execv() with stdout (and optionally stderr) redirected. All descriptors this helper
// and its callers create are close-on-exec, so children never inherit each other's pipes.
pid_t spawn(const std::string& exe,
            const std::vector<std::string>& args,
            int stdout_fd,
            int stderr_fd,
            const SpawnOptions& options = {}) {
    // Everything the child touches is prepared before fork(): only async-signal-safe calls
    // happen between fork() and exec (the test binary may have other threads).
    std::vector<std::string> storage;
    storage.reserve(args.size() + 1);
    storage.push_back(exe);
    storage.insert(storage.end(), args.begin(), args.end());
    std::vector<char*> argv;
    argv.reserve(storage.size() + 1);
    for (auto& s : storage) argv.push_back(s.data());
    argv.push_back(nullptr);
    const char* path = exe.c_str();
    // The environment: ours, with options.env's NAME=value entries replacing or adding.
    std::vector<std::string> env_storage;
    for (char** e = environ; *e != nullptr; ++e) {
        std::string_view entry(*e);
        auto name = entry.substr(0, entry.find('=') + 1);
        bool replaced = false;
        for (const auto& o : options.env) {
            replaced = replaced || std::string_view(o).starts_with(name);
        }
        if (!replaced)
            env_storage.emplace_back(entry);
    }
    env_storage.insert(env_storage.end(), options.env.begin(), options.env.end());
    std::vector<char*> envp;
    for (auto& e : env_storage) envp.push_back(e.data());
    envp.push_back(nullptr);
    struct rlimit files {};
    if (options.max_open_files) {
        files.rlim_cur = files.rlim_max = *options.max_open_files;
    }

    const int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    int exec_error[2];
    if (::pipe2(exec_error, O_CLOEXEC) != 0) {
        const int err = errno;
        if (devnull >= 0)
            ::close(devnull);
        errno = err;
        throw_errno("pipe2");
    }
    const pid_t parent = ::getpid();
    static constexpr int kResetSignals[] = {SIGINT,  SIGTERM, SIGPIPE, SIGHUP,
                                            SIGQUIT, SIGCHLD, SIGUSR1, SIGUSR2};

    const pid_t pid = ::fork();
    if (pid == 0) {
        // Child. Die with the parent so that no server outlives a crashed test binary.
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent)
            ::_exit(127);
        if (devnull >= 0)
            ::dup2(devnull, STDIN_FILENO);
        ::dup2(stdout_fd, STDOUT_FILENO);
        if (stderr_fd >= 0)
            ::dup2(stderr_fd, STDERR_FILENO);
        struct sigaction dfl {};
        dfl.sa_handler = SIG_DFL;
        sigemptyset(&dfl.sa_mask);
        for (int sig : kResetSignals) ::sigaction(sig, &dfl, nullptr);
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        if (options.max_open_files && ::setrlimit(RLIMIT_NOFILE, &files) != 0)
            ::_exit(126);
        ::execve(path, argv.data(), envp.data());
        const int err = errno;
        [[maybe_unused]] auto ignored = ::write(exec_error[1], &err, sizeof err);
        ::_exit(127);
    }
    const int fork_errno = errno;
    ::close(exec_error[1]);
    if (devnull >= 0)
        ::close(devnull);
    if (pid < 0) {
        ::close(exec_error[0]);
        errno = fork_errno;
        throw_errno("fork");
    }
    int child_errno = 0;
    ssize_t n;
    do {
        n = ::read(exec_error[0], &child_errno, sizeof child_errno);
    } while (n < 0 && errno == EINTR);
    ::close(exec_error[0]);
    if (n == static_cast<ssize_t>(sizeof child_errno)) {
        ::waitpid(pid, nullptr, 0);
        throw std::runtime_error("cannot execute '" + exe + "': " + errno_text(child_errno));
    }
    return pid;
}

bool parse_listening_line(std::string_view line, std::string& host, std::uint16_t& port) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) {
        line.remove_suffix(1);
    }
    if (!line.starts_with(kListeningPrefix))
        return false;
    const std::string_view rest = line.substr(kListeningPrefix.size());
    const auto colon = rest.rfind(':');
    if (colon == std::string_view::npos || colon == 0)
        return false;
    const std::string_view digits = rest.substr(colon + 1);
    if (digits.empty() || digits.size() > 5)
        return false;
    unsigned value = 0;
    for (char c : digits) {
        if (c < '0' || c > '9')
            return false;
        value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (value == 0 || value > 65535)
        return false;
    host = std::string(rest.substr(0, colon));
    port = static_cast<std::uint16_t>(value);
    return true;
}

}  // namespace

struct SampleProcess::Impl {
    std::string exe;
    pid_t pid = -1;
    int pidfd = -1;
    int stdout_fd = -1;
    bool exited = false;
    bool status_known = false;
    int wait_status = 0;
    std::string host;
    std::uint16_t port = 0;

    mutable std::mutex mutex;
    std::string captured;  // guarded by `mutex`
    std::thread drainer;
    int wake_read = -1;
    int wake_write = -1;

    Impl() = default;
    Impl(const Impl&) = delete;
    Impl& operator=(const Impl&) = delete;

    ~Impl() {
        if (pid > 0 && !exited) {
            ::kill(pid, SIGKILL);
            if (!wait_exit(std::chrono::seconds(10))) {
                int status = 0;
                ::waitpid(pid, &status, 0);
            }
        }
        stop_drainer();
        close_fd(stdout_fd);
        close_fd(pidfd);
    }

    // Reaps the child if it exits within `timeout`. Returns whether it has exited.
    bool wait_exit(milliseconds timeout) {
        if (exited || pid <= 0)
            return true;
        const auto deadline = Clock::now() + timeout;
        for (;;) {
            int status = 0;
            const pid_t r = ::waitpid(pid, &status, WNOHANG);
            if (r == pid) {
                exited = true;
                status_known = true;
                wait_status = status;
                return true;
            }
            if (r < 0 && errno != EINTR) {  // ECHILD: somebody else reaped it.
                exited = true;
                status_known = false;
                return true;
            }
            if (r == 0) {
                const int wait_ms = poll_timeout(deadline);
                if (wait_ms == 0)
                    return false;
                if (pidfd >= 0) {
                    pollfd p{pidfd, POLLIN, 0};
                    ::poll(&p, 1, wait_ms);
                } else {
                    std::this_thread::sleep_for(std::min(milliseconds(wait_ms), milliseconds(10)));
                }
            }
        }
    }

    int decoded_status() const {
        if (!exited || !status_known)
            return -1;
        if (WIFEXITED(wait_status))
            return WEXITSTATUS(wait_status);
        if (WIFSIGNALED(wait_status))
            return 128 + WTERMSIG(wait_status);
        return -1;
    }

    std::string describe_exit() const {
        if (!status_known)
            return "exited (status unknown)";
        if (WIFEXITED(wait_status))
            return "exited with status " + std::to_string(WEXITSTATUS(wait_status));
        if (WIFSIGNALED(wait_status)) {
            const int sig = WTERMSIG(wait_status);
            return "was killed by signal " + std::to_string(sig) + " (" + ::strsignal(sig) + ")";
        }
        return "exited (wait status " + std::to_string(wait_status) + ")";
    }

    void kill_and_reap() {
        if (pid > 0 && !exited) {
            ::kill(pid, SIGKILL);
            if (!wait_exit(std::chrono::seconds(10))) {
                int status = 0;
                ::waitpid(pid, &status, 0);
                exited = true;
            }
        }
    }

    std::string captured_copy() const {
        std::lock_guard lock(mutex);
        return captured;
    }

    // Keeps reading stdout so that the child never blocks on a full pipe.
    void start_drainer() {
        if (drainer.joinable() || stdout_fd < 0)
            return;
        int p[2];
        if (::pipe2(p, O_CLOEXEC) != 0)
            throw_errno("pipe2");
        wake_read = p[0];
        wake_write = p[1];
        drainer = std::thread([this] {
            char buf[4096];
            for (;;) {
                pollfd fds[2] = {{stdout_fd, POLLIN, 0}, {wake_read, POLLIN, 0}};
                if (::poll(fds, 2, -1) < 0) {
                    if (errno == EINTR)
                        continue;
                    return;
                }
                // Pending output wins over the wake-up so that nothing written before exit is
                // lost; EOF ends the loop.
                if (fds[0].revents != 0) {
                    const ssize_t n = ::read(stdout_fd, buf, sizeof buf);
                    if (n > 0) {
                        std::lock_guard lock(mutex);
                        captured.append(buf, static_cast<std::size_t>(n));
                        continue;
                    }
                    if (n < 0 && (errno == EINTR || errno == EAGAIN))
                        continue;
                    return;
                }
                if (fds[1].revents != 0)
                    return;
            }
        });
    }

    void stop_drainer() {
        if (drainer.joinable()) {
            const char byte = 'x';
            [[maybe_unused]] auto ignored = ::write(wake_write, &byte, 1);
            drainer.join();
        }
        close_fd(wake_read);
        close_fd(wake_write);
    }
};

SampleProcess::SampleProcess(std::string exe,
                             std::vector<std::string> args,
                             const SpawnOptions& options)
    : impl_(std::make_unique<Impl>()) {
    impl_->exe = std::move(exe);
    int out[2];
    if (::pipe2(out, O_CLOEXEC) != 0)
        throw_errno("pipe2");
    int err = -1;
    if (!options.stderr_path.empty()) {
        err = ::open(options.stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (err < 0) {
            ::close(out[0]);
            ::close(out[1]);
            throw_errno("open " + options.stderr_path);
        }
    }
    try {
        impl_->pid = spawn(impl_->exe, args, out[1], err, options);
    } catch (...) {
        ::close(out[0]);
        ::close(out[1]);
        if (err >= 0)
            ::close(err);
        throw;
    }
    ::close(out[1]);
    if (err >= 0)
        ::close(err);
    impl_->stdout_fd = out[0];
    impl_->pidfd = open_pidfd(impl_->pid);
}

SampleProcess::SampleProcess(SampleProcess&&) noexcept = default;
SampleProcess& SampleProcess::operator=(SampleProcess&&) noexcept = default;
SampleProcess::~SampleProcess() = default;

SampleProcess SampleProcess::start(std::string exe,
                                   std::vector<std::string> extra_args,
                                   const SpawnOptions& options) {
    std::vector<std::string> args{"--port", "0"};
    args.insert(args.end(), std::make_move_iterator(extra_args.begin()),
                std::make_move_iterator(extra_args.end()));
    SampleProcess process(std::move(exe), std::move(args), options);
    process.wait_for_listening(std::chrono::seconds(10));
    return process;
}

void SampleProcess::wait_for_listening(milliseconds timeout) {
    Impl& s = *impl_;
    if (s.port != 0)
        return;
    const auto deadline = Clock::now() + timeout;
    std::size_t scan_from = 0;
    std::string text;  // no drainer yet: this thread is the only reader

    auto fail = [&](const std::string& why) {
        s.kill_and_reap();
        {
            std::lock_guard lock(s.mutex);
            s.captured = text;
        }
        throw std::runtime_error("sample '" + s.exe + "' " + why + "; its stdout so far was: \"" +
                                 text + "\"");
    };

    char buf[4096];
    for (;;) {
        for (auto nl = text.find('\n', scan_from); nl != std::string::npos;
             nl = text.find('\n', scan_from)) {
            const std::string_view line(text.data() + scan_from, nl - scan_from);
            scan_from = nl + 1;
            std::string host;
            std::uint16_t port = 0;
            if (parse_listening_line(line, host, port)) {
                s.host = std::move(host);
                s.port = port;
                {
                    std::lock_guard lock(s.mutex);
                    s.captured = text;
                }
                s.start_drainer();
                return;
            }
            if (line.starts_with("listening on")) {
                fail("printed a malformed listening line \"" + std::string(line) +
                     "\" (expected \"listening on http://ADDR:PORT\")");
            }
        }
        const int wait_ms = poll_timeout(deadline);
        if (wait_ms == 0) {
            fail("did not print \"listening on http://ADDR:PORT\" within " +
                 std::to_string(timeout.count()) + " ms");
        }
        pollfd p{s.stdout_fd, POLLIN, 0};
        const int r = ::poll(&p, 1, wait_ms);
        if (r < 0 && errno != EINTR)
            throw_errno("poll");
        if (r <= 0)
            continue;
        const ssize_t n = ::read(s.stdout_fd, buf, sizeof buf);
        if (n > 0) {
            text.append(buf, static_cast<std::size_t>(n));
            continue;
        }
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        // EOF: the child exited or closed its stdout before printing the line.
        if (s.wait_exit(std::chrono::milliseconds(std::max(poll_timeout(deadline), 1000)))) {
            fail(s.describe_exit() + " before printing the listening line");
        }
        fail("closed its stdout before printing the listening line");
    }
}

std::uint16_t SampleProcess::port() const { return impl_->port; }
const std::string& SampleProcess::host() const { return impl_->host; }
pid_t SampleProcess::pid() const { return impl_->pid; }
const std::string& SampleProcess::exe() const { return impl_->exe; }

bool SampleProcess::running() { return !impl_->wait_exit(milliseconds(0)); }

bool SampleProcess::wait_for_exit(milliseconds timeout) { return impl_->wait_exit(timeout); }

std::optional<int> SampleProcess::exit_code() {
    if (!impl_->wait_exit(milliseconds(0)))
        return std::nullopt;
    return impl_->decoded_status();
}

std::string SampleProcess::captured_stdout() const { return impl_->captured_copy(); }

int SampleProcess::stop(int sig, std::chrono::seconds timeout) {
    Impl& s = *impl_;
    if (!s.wait_exit(milliseconds(0))) {
        ::kill(s.pid, sig);
        if (!s.wait_exit(timeout)) {
            s.kill_and_reap();
            s.stop_drainer();
            return -1;
        }
    }
    s.stop_drainer();
    return s.decoded_status();
}

RunResult SampleProcess::run_to_exit(std::string exe,
                                     std::vector<std::string> args,
                                     milliseconds timeout) {
    int out[2];
    int err[2];
    if (::pipe2(out, O_CLOEXEC) != 0)
        throw_errno("pipe2");
    if (::pipe2(err, O_CLOEXEC) != 0) {
        const int e = errno;
        ::close(out[0]);
        ::close(out[1]);
        errno = e;
        throw_errno("pipe2");
    }
    Impl s;  // owns the child and stdout; kills and reaps on any exit path
    s.exe = std::move(exe);
    s.stdout_fd = out[0];
    int err_fd = err[0];
    struct CloseErr {
        int& fd;
        ~CloseErr() { close_fd(fd); }
    } close_err{err_fd};
    try {
        s.pid = spawn(s.exe, args, out[1], err[1]);
    } catch (...) {
        ::close(out[1]);
        ::close(err[1]);
        throw;
    }
    ::close(out[1]);
    ::close(err[1]);
    s.pidfd = open_pidfd(s.pid);

    RunResult result;
    const auto deadline = Clock::now() + timeout;
    auto read_into = [](int& fd, std::string& sink) {
        char buf[4096];
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n > 0) {
            sink.append(buf, static_cast<std::size_t>(n));
        } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
            close_fd(fd);
        }
    };
    while (s.stdout_fd >= 0 || err_fd >= 0) {
        const int wait_ms = poll_timeout(deadline);
        if (wait_ms == 0)
            break;
        pollfd fds[2] = {{s.stdout_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};  // fd -1 is ignored
        const int r = ::poll(fds, 2, wait_ms);
        if (r < 0 && errno != EINTR)
            throw_errno("poll");
        if (r <= 0)
            continue;
        if (fds[0].revents != 0)
            read_into(s.stdout_fd, result.stdout_text);
        if (fds[1].revents != 0)
            read_into(err_fd, result.stderr_text);
    }
    if (s.wait_exit(milliseconds(poll_timeout(deadline)))) {
        result.exit_code = s.decoded_status();
    } else {
        s.kill_and_reap();
        result.exit_code = -1;
    }
    return result;
}

double cpu_seconds(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto paren = stat.rfind(')');
    if (paren == std::string::npos)
        return -1;
    // The fields after the command name (in parentheses, which may hold spaces): utime and
    // stime are the 14th and 15th of the line.
    std::istringstream rest(stat.substr(paren + 2));
    std::string field;
    unsigned long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && rest >> field; ++i) {
        if (i == 14)
            utime = std::stoul(field);
        if (i == 15)
            stime = std::stoul(field);
    }
    return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

long rss_kib(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.starts_with("VmRSS:"))
            return std::stol(line.substr(6));
    }
    return -1;
}

std::size_t open_descriptors(pid_t pid) {
    std::error_code ec;
    std::size_t n = 0;
    for (std::filesystem::directory_iterator it("/proc/" + std::to_string(pid) + "/fd", ec), end;
         !ec && it != end; it.increment(ec)) {
        ++n;
    }
    return n;
}

SpawnOptions small_asan_quarantine() {
    const char* current = std::getenv("ASAN_OPTIONS");
    std::string options = current != nullptr ? current : "";
    options += options.empty() ? "" : ":";
    options += "quarantine_size_mb=4";
    return SpawnOptions{.env = {"ASAN_OPTIONS=" + options}};
}

}  // namespace flamecpp::test
