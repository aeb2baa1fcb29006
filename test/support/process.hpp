// Test-only helper: runs a sample binary as a child process, with its stdout captured through a
// pipe, so that integration tests can talk to it over loopback sockets.
#pragma once

#include <chrono>
#include <csignal>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <sys/resource.h>
#include <sys/types.h>

namespace flamecpp::test {

// What a process that ran to completion left behind.
struct RunResult {
    // WEXITSTATUS, 128 + signal number if it was killed by a signal, -1 if it had to be killed
    // because it outlived the timeout.
    int exit_code = -1;
    std::string stdout_text;
    std::string stderr_text;
};

// How a child starts besides its arguments.
struct SpawnOptions {
    // RLIMIT_NOFILE (soft and hard) for the child, e.g. to make accept() fail with EMFILE.
    std::optional<rlim_t> max_open_files;
    // NAME=value entries added to (or replacing in) the inherited environment.
    std::vector<std::string> env;
    // When set, the child's stderr goes to this file (created or truncated) instead of the
    // test's, for tests that read what it logged.
    std::string stderr_path;
};

// What /proc says about process `pid`: CPU time (utime + stime) in seconds, resident memory in
// KiB, open file descriptors. -1 / 0 if the process is gone.
double cpu_seconds(pid_t pid);
long rss_kib(pid_t pid);
std::size_t open_descriptors(pid_t pid);

// Whether this build runs under ThreadSanitizer (the samples a test starts are built alike).
// Its allocator keeps freed memory per thread and its shadow grows with every byte touched,
// so a child's RSS says little about the child's own memory there; timings stretch too.
#if defined(__SANITIZE_THREAD__)  // GCC
#define FLAMECPP_TEST_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)  // clang
#define FLAMECPP_TEST_TSAN 1
#endif
#endif
#ifdef FLAMECPP_TEST_TSAN
inline constexpr bool kThreadSanitizer = true;
#else
inline constexpr bool kThreadSanitizer = false;
#endif

// SpawnOptions for a child whose memory a test measures: AddressSanitizer's quarantine keeps
// up to 256 MiB of freed memory by default, which would hide whether the child's own memory
// is bounded. (Harmless without ASan.)
SpawnOptions small_asan_quarantine();

// A running child process. stdout is a pipe read by this object; stderr is inherited so that the
// sample's logs end up in the test's output. The child gets default signal dispositions, an
// empty signal mask, stdin from /dev/null, and is SIGKILLed by the kernel if the thread that
// started it dies (so a crashed or timed-out test binary leaves no server behind).
class SampleProcess {
public:
    // Starts `exe` with exactly `args` (nothing is added). Throws std::runtime_error if the
    // program cannot be executed.
    SampleProcess(std::string exe, std::vector<std::string> args, const SpawnOptions& options = {});

    // Starts `exe --port 0 extra_args...` and waits (at most 10 s) for the stdout line
    // `listening on http://ADDR:PORT`. Throws std::runtime_error if the process exits, closes
    // its stdout or stays silent for 10 s first (the process is then killed and reaped).
    static SampleProcess start(std::string exe,
                               std::vector<std::string> extra_args = {},
                               const SpawnOptions& options = {});

    // Runs `exe args...` to completion with stdout and stderr captured. If it is still running
    // after `timeout` it is SIGKILLed and exit_code is -1.
    static RunResult run_to_exit(std::string exe,
                                 std::vector<std::string> args,
                                 std::chrono::milliseconds timeout = std::chrono::seconds(10));

    SampleProcess(SampleProcess&&) noexcept;
    SampleProcess& operator=(SampleProcess&&) noexcept;
    SampleProcess(const SampleProcess&) = delete;
    SampleProcess& operator=(const SampleProcess&) = delete;

    // SIGKILLs and reaps the process if it still runs.
    ~SampleProcess();

    // Reads stdout until the listening line shows up (start() calls this). After it returns,
    // the rest of stdout is drained in the background (see captured_stdout()).
    void wait_for_listening(std::chrono::milliseconds timeout = std::chrono::seconds(10));

    // The port and address from the listening line (0 and "" before wait_for_listening()).
    std::uint16_t port() const;
    const std::string& host() const;
    pid_t pid() const;
    const std::string& exe() const;

    // True while the child has not exited (reaps it if it has).
    bool running();

    // Waits up to `timeout` for the child to exit on its own; returns whether it has exited.
    bool wait_for_exit(std::chrono::milliseconds timeout);

    // The decoded exit status (see RunResult::exit_code) once the child has exited.
    std::optional<int> exit_code();

    // Everything the child wrote to stdout so far (including the listening line).
    std::string captured_stdout() const;

    // Sends `sig` and waits up to `timeout` for the child to exit. Returns WEXITSTATUS, or
    // 128 + the signal number if the child was killed by a signal. If the child does not exit
    // in time it is SIGKILLed and -1 is returned. If the child had already exited, returns its
    // status without sending anything.
    int stop(int sig = SIGTERM, std::chrono::seconds timeout = std::chrono::seconds(15));

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace flamecpp::test
