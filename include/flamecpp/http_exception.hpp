#pragma once

/// @file
/// The exception that turns into an HTTP error response.

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

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
    /// Header fields for the answer, in order.
    using Headers = std::vector<std::pair<std::string, std::string>>;

    /// An answer of `status` whose body is `{"detail": detail}`; what() is `detail` too.
    HTTPException(Status status, std::string detail)
        : std::runtime_error(detail), status_(status), detail_(std::move(detail)) {}
    /// With header fields for the answer: `WWW-Authenticate` on a 401, `Retry-After` on a 503.
    ///
    /// @code
    /// throw HTTPException(Status::unauthorized, "who are you?",
    ///                     {{"WWW-Authenticate", "Basic realm=\"site\""}});
    /// @endcode
    HTTPException(Status status, std::string detail, Headers headers)
        : std::runtime_error(detail),
          status_(status),
          detail_(std::move(detail)),
          headers_(std::move(headers)) {}
    /// An answer of `status` whose detail is its reason phrase (`{"detail": "Not Found"}`).
    explicit HTTPException(Status status);

    /// The status of the answer.
    Status status() const noexcept { return status_; }
    /// The text of the answer's `detail` field.
    const std::string& detail() const noexcept { return detail_; }
    /// The header fields added to the answer, in order (none unless given).
    const Headers& headers() const noexcept { return headers_; }

private:
    Status status_;
    std::string detail_;
    Headers headers_;
};

}  // namespace flamecpp
