// Prelude of docs/injection.md's fragments: the page leaves out `flamecpp::` before the
// parameter types, and its "JSON bodies" handler takes a component declared elsewhere.
#pragma once

#include "flamecpp.hpp"

using flamecpp::Body;
using flamecpp::Header;
using flamecpp::Path;
using flamecpp::Query;

struct ItemIds : flamecpp::Component {
    std::atomic<int> next{1};
};
