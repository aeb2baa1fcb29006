#pragma once

// The todo sample's types: what the API reads and writes, described for JSON and the schema.

#include <cstdint>
#include <optional>
#include <string>

#include <flamecpp/body.hpp>
#include <flamecpp/rules.hpp>

namespace todo {

/// A stored todo, as every route answers it.
struct Todo {
    std::int64_t id = 0;
    std::string title;
    bool completed = false;
    std::string created_at;  ///< RFC 3339, UTC: 2026-12-03T18:04:05Z
};
BOOST_DESCRIBE_STRUCT(Todo, (), (id, title, completed, created_at))

/// The body of POST /todos.
struct NewTodo {
    std::string title;
    std::optional<bool> completed;  ///< false when absent
};
BOOST_DESCRIBE_STRUCT(NewTodo, (), (title, completed))
FLAMECPP_RULES(NewTodo, (title, .min_length = 1, .max_length = 200))

/// The body of PATCH /todos/{id}: what is given changes.
struct TodoPatch {
    std::optional<std::string> title;
    std::optional<bool> completed;
};
BOOST_DESCRIBE_STRUCT(TodoPatch, (), (title, completed))
FLAMECPP_RULES(TodoPatch, (title, .min_length = 1, .max_length = 200))

}  // namespace todo
