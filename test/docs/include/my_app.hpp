// The app header docs/testing.md's example test includes (test/docs/check_snippets.cmake).
#pragma once

#include <flamecpp/app.hpp>

flamecpp::App make_app();
