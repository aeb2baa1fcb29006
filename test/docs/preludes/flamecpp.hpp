// Prelude of the docs' C++ fragments (test/docs/check_snippets.cmake): what every page assumes.
// The public headers, and `app`, the app a fragment registers its routes on.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <boost/describe/class.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <flamecpp/body.hpp>
#include <flamecpp/flamecpp.hpp>
#include <flamecpp/forms.hpp>
#include <flamecpp/json.hpp>
#include <flamecpp/websocket.hpp>

extern flamecpp::App app;
