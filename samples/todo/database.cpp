#include "database.hpp"

#include <stdexcept>
#include <utility>

#include <sqlite3.h>

namespace todo {

namespace {

[[noreturn]] void fail(sqlite3* db, const std::string& what) {
    throw std::runtime_error(what + ": " + (db != nullptr ? sqlite3_errmsg(db) : "out of memory"));
}

/// A prepared statement, reset after each use.
class Statement {
public:
    Statement(sqlite3* db, const char* sql) : db_(db) {
        if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr) !=
            SQLITE_OK) {
            fail(db, std::string("cannot prepare '") + sql + "'");
        }
    }
    ~Statement() { sqlite3_finalize(stmt_); }
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    /// Binds, in order, and steps; the statement is reset by `done`.
    sqlite3_stmt* get() noexcept { return stmt_; }
    bool step() {
        int rc = sqlite3_step(stmt_);
        if (rc == SQLITE_ROW) {
            return true;
        }
        if (rc != SQLITE_DONE) {
            std::string message = sqlite3_errmsg(db_);
            done();
            throw std::runtime_error("database: " + message);
        }
        return false;
    }
    void done() noexcept {
        sqlite3_reset(stmt_);
        sqlite3_clear_bindings(stmt_);
    }

private:
    sqlite3* db_;
    sqlite3_stmt* stmt_ = nullptr;
};

/// Resets a statement however the call ends.
struct Done {
    Statement& s;
    ~Done() { s.done(); }
};

Todo row(sqlite3_stmt* s) {
    Todo todo;
    todo.id = sqlite3_column_int64(s, 0);
    todo.title = reinterpret_cast<const char*>(sqlite3_column_text(s, 1));
    todo.completed = sqlite3_column_int(s, 2) != 0;
    todo.created_at = reinterpret_cast<const char*>(sqlite3_column_text(s, 3));
    return todo;
}

void bind_text(sqlite3_stmt* s, int index, const std::string& text) {
    sqlite3_bind_text(s, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
}

}  // namespace

struct Database::Statements {
    explicit Statements(sqlite3* db)
        : list(db,
               "SELECT id, title, completed, created_at FROM todos "
               "WHERE ?1 IS NULL OR completed = ?1 ORDER BY id LIMIT ?2 OFFSET ?3"),
          insert(db,
                 "INSERT INTO todos (title, completed, created_at) "
                 "VALUES (?1, ?2, strftime('%Y-%m-%dT%H:%M:%SZ', 'now')) "
                 "RETURNING id, title, completed, created_at"),
          find(db, "SELECT id, title, completed, created_at FROM todos WHERE id = ?1"),
          update(db,
                 "UPDATE todos SET title = coalesce(?2, title), "
                 "completed = coalesce(?3, completed) WHERE id = ?1 "
                 "RETURNING id, title, completed, created_at"),
          remove(db, "DELETE FROM todos WHERE id = ?1") {}

    Statement list;
    Statement insert;
    Statement find;
    Statement update;
    Statement remove;
};

Database::Database(const std::string& path) {
    // The connection is used by the database thread alone: no mutex in SQLite either.
    const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
        std::string message = db_ != nullptr ? sqlite3_errmsg(db_) : "out of memory";
        sqlite3_close(db_);
        db_ = nullptr;
        throw std::runtime_error("cannot open the database '" + path + "': " + message);
    }
    try {
        // Another process may hold the file for a moment (a backup, the previous server
        // still closing): wait for it rather than fail with "database is locked".
        sqlite3_busy_timeout(db_, 5000);
        const char* setup =
            "PRAGMA journal_mode = WAL;"
            "PRAGMA synchronous = NORMAL;"
            "CREATE TABLE IF NOT EXISTS todos ("
            "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
            "  title TEXT NOT NULL,"
            "  completed INTEGER NOT NULL DEFAULT 0,"
            "  created_at TEXT NOT NULL);";
        char* error = nullptr;
        if (sqlite3_exec(db_, setup, nullptr, nullptr, &error) != SQLITE_OK) {
            std::string message = error != nullptr ? error : "unknown error";
            sqlite3_free(error);
            throw std::runtime_error("cannot set up the database '" + path + "': " + message);
        }
        statements_ = std::make_unique<Statements>(db_);
    } catch (...) {
        statements_.reset();
        sqlite3_close(db_);
        db_ = nullptr;
        throw;
    }
}

Database::~Database() { close(); }

void Database::close() {
    thread_.join();  // calls in flight finish first
    statements_.reset();
    if (db_ != nullptr) {
        sqlite3_close(db_);
        db_ = nullptr;
    }
}

std::vector<Todo> Database::list(std::optional<bool> completed, int limit, int offset) {
    Statement& s = statements_->list;
    Done done{s};
    if (completed) {
        sqlite3_bind_int(s.get(), 1, *completed ? 1 : 0);
    }
    sqlite3_bind_int(s.get(), 2, limit);
    sqlite3_bind_int(s.get(), 3, offset);
    std::vector<Todo> out;
    while (s.step()) {
        out.push_back(row(s.get()));
    }
    return out;
}

Todo Database::create(const std::string& title, bool completed) {
    Statement& s = statements_->insert;
    Done done{s};
    bind_text(s.get(), 1, title);
    sqlite3_bind_int(s.get(), 2, completed ? 1 : 0);
    if (!s.step()) {
        throw std::runtime_error("database: INSERT returned no row");
    }
    Todo todo = row(s.get());
    while (s.step()) {
    }
    return todo;
}

std::optional<Todo> Database::find(std::int64_t id) {
    Statement& s = statements_->find;
    Done done{s};
    sqlite3_bind_int64(s.get(), 1, id);
    if (!s.step()) {
        return std::nullopt;
    }
    return row(s.get());
}

std::optional<Todo> Database::update(std::int64_t id, const TodoPatch& patch) {
    Statement& s = statements_->update;
    Done done{s};
    sqlite3_bind_int64(s.get(), 1, id);
    if (patch.title) {
        bind_text(s.get(), 2, *patch.title);
    }
    if (patch.completed) {
        sqlite3_bind_int(s.get(), 3, *patch.completed ? 1 : 0);
    }
    if (!s.step()) {
        return std::nullopt;
    }
    Todo todo = row(s.get());
    while (s.step()) {
    }
    return todo;
}

bool Database::remove(std::int64_t id) {
    Statement& s = statements_->remove;
    Done done{s};
    sqlite3_bind_int64(s.get(), 1, id);
    s.step();
    return sqlite3_changes(db_) > 0;
}

}  // namespace todo
