#pragma once

// Runs a coroutine to completion on the calling thread: how tests drive Task<T>.

#include <memory>
#include <mutex>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <flamecpp/task.hpp>

namespace flamecpp::test {

// The calling thread's loop, kept until the process exits. A coroutine that awaits a server
// (a WebSocket send from outside it) is resumed by a server thread posting to this loop, and
// Asio signals the loop's condition variable after unlocking its mutex: destroying the loop
// as soon as run() returns could destroy it under that signal.
inline boost::asio::io_context& thread_loop() {
    static std::mutex mutex;
    static std::vector<std::unique_ptr<boost::asio::io_context>> loops;
    thread_local boost::asio::io_context* mine = [] {
        std::lock_guard lock(mutex);
        return loops.emplace_back(std::make_unique<boost::asio::io_context>()).get();
    }();
    return *mine;
}

template <class T>
T run(Task<T> task) {
    boost::asio::io_context& io = thread_loop();
    io.restart();
    auto future = boost::asio::co_spawn(io, std::move(task), boost::asio::use_future);
    io.run();
    return future.get();
}

}  // namespace flamecpp::test
