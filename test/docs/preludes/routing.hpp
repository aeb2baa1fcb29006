// Prelude of docs/routing.md's fragments: the handlers its route tables register, and the
// names its "Responses" list writes without `flamecpp::`.
#pragma once

#include "flamecpp.hpp"

using flamecpp::Response;
using flamecpp::Status;

flamecpp::Response home();
flamecpp::Response create_item(flamecpp::Request& request);
flamecpp::Response thing(flamecpp::Request& request);
struct User : flamecpp::HTTPEndpoint {
    flamecpp::Response get(flamecpp::Path<"user_id", int> user_id);
};
flamecpp::Task<void> produce(flamecpp::BodyWriter& out);
