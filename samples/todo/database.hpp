#pragma once

// The todo sample's store: one SQLite connection, used only from one database thread.
// SQLite's calls block, so handlers never make them on an event loop: `run` hands a call to
// the database thread and resumes the handler on its own thread with the result.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <flamecpp/flamecpp.hpp>

#include "model.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace todo {

/// Runs `call` where it is awaited from: on the database thread, through co_spawn.
template <class R>
flamecpp::Task<R> call_here(std::function<R()> call) {
    co_return call();
}

class Database : public flamecpp::Component {
public:
    /// Opens (or creates) the database at `path` (":memory:" for one in memory), in WAL mode
    /// with a busy timeout, creates the table if needed and prepares the statements. Throws
    /// std::runtime_error naming the path when SQLite cannot open it.
    explicit Database(const std::string& path);
    ~Database();
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;

    /// Calls `call` (which may use the methods below) on the database thread; the awaiting
    /// handler resumes on its own thread with the result, or the exception rethrown.
    template <class F>
    auto run(F call) -> flamecpp::Task<decltype(call())> {
        using R = decltype(call());
        return boost::asio::co_spawn(thread_, call_here<R>(std::function<R()>(std::move(call))),
                                     boost::asio::use_awaitable);
    }

    /// Waits for calls in flight, then closes the connection (the shutdown hook).
    void close();

    // On the database thread only:
    std::vector<Todo> list(std::optional<bool> completed, int limit, int offset);
    Todo create(const std::string& title, bool completed);
    std::optional<Todo> find(std::int64_t id);
    std::optional<Todo> update(std::int64_t id, const TodoPatch& patch);
    bool remove(std::int64_t id);

private:
    struct Statements;
    sqlite3* db_ = nullptr;
    std::unique_ptr<Statements> statements_;
    boost::asio::thread_pool thread_{1};
};

}  // namespace todo
