#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <flamecpp/response.hpp>

#include "http/ascii.hpp"
#include "http/detail_response.hpp"
#include "json/writer.hpp"

namespace flamecpp {

Response detail_response(Status status, std::string_view detail) {
    boost::json::object body;
    body["detail"] = detail;
    return Response::json(body, status);
}

Response::Response(Status status, std::string body, std::string_view content_type)
    : status_(status), custom_type_(content_type), body_(std::move(body)) {}

Response Response::text(std::string body, Status status) {
    return Response(status, std::move(body), StaticType{"text/plain; charset=utf-8"});
}

Response Response::html(std::string body, Status status) {
    return Response(status, std::move(body), StaticType{"text/html; charset=utf-8"});
}

Response Response::json(const boost::json::value& value, Status status) {
    return Response(status, detail::serialize_json(value), StaticType{"application/json"});
}

Response Response::redirect(std::string location, Status status) {
    Response r(status, std::string(), StaticType{nullptr});
    r.headers_.emplace_back("Location", std::move(location));
    return r;
}

Response Response::stream(BodyStream body, std::string_view content_type, Status status) {
    Response r(status, std::string(), content_type);
    r.stream_ = std::move(body);
    return r;
}

Response Response::empty(Status status) {
    return Response(status, std::string(), StaticType{nullptr});
}

Response& Response::with_header(std::string name, std::string value) & {
    headers_.emplace_back(std::move(name), std::move(value));
    return *this;
}

Response&& Response::with_header(std::string name, std::string value) && {
    headers_.emplace_back(std::move(name), std::move(value));
    return std::move(*this);
}

std::string_view Response::header(std::string_view name) const noexcept {
    for (const auto& [n, v] : headers_) {
        if (detail::iequals(n, name)) {
            return v;
        }
    }
    return {};
}

}  // namespace flamecpp
