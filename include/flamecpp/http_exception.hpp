#pragma once

/// @file
/// The exception that turns into an HTTP error response.

#include <stdexcept>
#include <string>

#include <flamecpp/status.hpp>

namespace flamecpp {

/// Thrown from a handler (or by the injector) to answer with `status` and a JSON body
/// `{"detail": detail}`, as Starlette's and Flama's HTTPException do.
///
/// @code
/// if (!found) throw flamecpp::HTTPException(flamecpp::Status::not_found, "no such item");
/// @endcode
class HTTPException : public std::runtime_error {
public:
    HTTPException(Status status, std::string detail)
        : std::runtime_error(detail), status_(status), detail_(std::move(detail)) {}
    explicit HTTPException(Status status);

    Status status() const noexcept { return status_; }
    const std::string& detail() const noexcept { return detail_; }

private:
    Status status_;
    std::string detail_;
};

}  // namespace flamecpp
