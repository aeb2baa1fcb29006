// Prelude of docs/testing.md's fragments: the statements of a GoogleTest body, with the page's
// `client` and the coroutine its last example runs.
#pragma once

#include <chrono>
#include <string>

#include <gtest/gtest.h>

#include <flamecpp/task.hpp>
#include <flamecpp/testing.hpp>

using namespace std::chrono_literals;  // the page's 200ms

extern flamecpp::testing::TestClient client;

struct User {
    std::string name;
};
flamecpp::Task<User> load_user(int id);
