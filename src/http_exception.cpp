#include <flamecpp/http_exception.hpp>

namespace flamecpp {

HTTPException::HTTPException(Status status)
    : HTTPException(status, std::string(reason_phrase(status))) {}

}  // namespace flamecpp
