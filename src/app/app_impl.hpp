#pragma once

#include <string>

#include <flamecpp/app.hpp>

#include "routing/router.hpp"

namespace flamecpp {

struct App::Impl {
    detail::Router router;
    Limits limits;
    std::string server_header = "flamecpp";
};

}  // namespace flamecpp
