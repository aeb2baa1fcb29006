// todo: a typed REST API on SQLite whose OpenAPI schema is written by its types (see
// docs/samples.md, `todo`, and docs/openapi.md). GET /docs tries it in Swagger UI.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <flamecpp/body.hpp>
#include <flamecpp/flamecpp.hpp>
#include <flamecpp/openapi.hpp>
#include <flamecpp/rules.hpp>

#include "database.hpp"
#include "model.hpp"

namespace {

using flamecpp::Body;
using flamecpp::Path;
using flamecpp::Query;
using flamecpp::Rules;
using flamecpp::Status;
using flamecpp::Task;
using todo::Database;
using todo::NewTodo;
using todo::Todo;
using todo::TodoPatch;

using TodoId = Path<"id", std::int64_t>;

flamecpp::HTTPException not_found(std::int64_t id) {
    return {Status::not_found, "todo " + std::to_string(id) + " not found"};
}

inline const flamecpp::ResponseDoc todo_not_found =
    flamecpp::responds<flamecpp::Error>(Status::not_found, "No todo has this id");

Task<std::vector<Todo>> list_todos(
    Database& db,
    Query<"completed", std::optional<bool>> completed,
    Query<"limit", int, 50, Rules{.minimum = 1, .maximum = 100}> limit,
    Query<"offset", int, 0, Rules{.minimum = 0}> offset) {
    co_return co_await db.run([&] { return db.list(*completed, *limit, *offset); });
}

Task<flamecpp::Response> create_todo(Database& db, flamecpp::App& app, Body<NewTodo> body) {
    Todo todo =
        co_await db.run([&] { return db.create(body->title, body->completed.value_or(false)); });
    auto location = app.url_path_for("todo", {{"id", todo.id}});
    co_return flamecpp::Response::json(todo, Status::created)
        .with_header("Location", std::move(location));
}

/// One todo: an endpoint class, documented per verb.
class TodoItem : public flamecpp::HTTPEndpoint {
public:
    static inline const flamecpp::Operation get_doc{
        .summary = "Read a todo", .tags = {"todos"}, .responses = {todo_not_found}};
    Task<Todo> get(Database& db, TodoId id) {
        auto todo = co_await db.run([&] { return db.find(*id); });
        if (!todo) {
            throw not_found(*id);
        }
        co_return std::move(*todo);
    }

    static inline const flamecpp::Operation patch_doc{
        .summary = "Change a todo's title or state",
        .description = "Fields left out keep their value.",
        .tags = {"todos"},
        .responses = {todo_not_found}};
    Task<Todo> patch(Database& db, TodoId id, Body<TodoPatch> patch) {
        auto todo = co_await db.run([&] { return db.update(*id, *patch); });
        if (!todo) {
            throw not_found(*id);
        }
        co_return std::move(*todo);
    }

    static inline const flamecpp::Operation delete_doc{
        .summary = "Delete a todo",
        .tags = {"todos"},
        .responses = {flamecpp::responds(Status::no_content, "Deleted"), todo_not_found}};
    Task<flamecpp::Response> delete_(Database& db, TodoId id) {
        bool removed = co_await db.run([&] { return db.remove(*id); });
        if (!removed) {
            throw not_found(*id);
        }
        co_return flamecpp::Response::empty();
    }
};

}  // namespace

int main(int argc, char** argv) {
    flamecpp::App app;
    const auto db_path =
        app.flag<std::string>("db", "the SQLite database file", ":memory:", "PATH");
    const auto assets = app.flag<std::string>(
        "docs-assets", "a folder with Swagger UI's files for /docs (default: a CDN)", "", "DIR");

    app.on_startup(
        [db_path](flamecpp::App& self) { self.component(std::make_shared<Database>(*db_path)); },
        "open the database");
    app.on_shutdown([](Database& db) { db.close(); }, "close the database");

    app.route("/todos", list_todos, {flamecpp::Method::get}, "todos",
              {.doc = {.summary = "List todos", .tags = {"todos"}}});
    app.route("/todos", create_todo, {flamecpp::Method::post}, "create_todo",
              {.doc = {.summary = "Create a todo",
                       .tags = {"todos"},
                       .responses = {
                           flamecpp::responds<Todo>(Status::created, "Created", {"Location"})}}});
    app.route<TodoItem>("/todos/{id:int}", "todo");

    flamecpp::serve_openapi(app, {.title = "todo",
                                  .version = "1.0.0",
                                  .description = "A typed REST API on SQLite.",
                                  .assets_dir_flag = assets});
    return app.run(argc, argv);
}
