#pragma once

#include <string_view>

#include <flamecpp/response.hpp>

namespace flamecpp {

/// The answer for an HTTPException (thrown by a handler, or by the injector when a parameter
/// cannot be read): `status`, with the JSON body {"detail": detail}. Defined in response.cpp.
Response json_detail_response(Status status, std::string_view detail);

}  // namespace flamecpp
