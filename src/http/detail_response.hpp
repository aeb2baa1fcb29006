#pragma once

#include <string_view>

#include <flamecpp/response.hpp>

namespace flamecpp {

/// The JSON error body of HTTPException and of failed injection: {"detail": "..."}.
Response detail_response(Status status, std::string_view detail);

}  // namespace flamecpp
