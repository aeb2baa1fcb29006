// Errors and parsing behind the injector's Query, Header and Body parameters.
#include <string>

#include <flamecpp/body.hpp>

#include "json/reader.hpp"
#include "text/ascii.hpp"

namespace flamecpp::detail {

void throw_bad_param(const char* kind, std::string_view name, const char* wanted) {
    throw HTTPException(Status::bad_request,
                        std::string(kind) + " '" + std::string(name) + "' must be " + wanted);
}

void throw_param_out_of_range(const char* kind, std::string_view name) {
    throw HTTPException(Status::bad_request,
                        std::string(kind) + " '" + std::string(name) + "' is out of range");
}

void throw_missing_param(const char* kind, std::string_view name) {
    throw HTTPException(Status::bad_request,
                        std::string(kind) + " '" + std::string(name) + "' is required");
}

void throw_body_error(const std::string& path, std::string_view problem) {
    if (path.empty()) {
        throw HTTPException(Status::bad_request, "the body " + std::string(problem));
    }
    throw HTTPException(Status::bad_request, "field '" + path + "' " + std::string(problem));
}

boost::json::value parse_json_body(const Request& request) {
    if (auto type = request.header("Content-Type")) {
        // application/json, or any structured-syntax "+json" type (RFC 6839 3.1).
        std::string_view media = type->substr(0, type->find(';'));
        while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
        bool json = iequals(media, "application/json") ||
                    (media.size() > 5 && iequals(media.substr(media.size() - 5), "+json"));
        if (!json) {
            throw HTTPException(Status::unsupported_media_type,
                                "the body must be JSON (Content-Type: application/json)");
        }
    }
    if (request.body().empty()) {
        throw HTTPException(Status::bad_request, "the body is empty; a JSON document is required");
    }
    try {
        return parse_json(request.body());
    } catch (const JsonError& e) {
        throw HTTPException(Status::bad_request,
                            std::string("the body is not valid JSON: ") + e.what());
    }
}

}  // namespace flamecpp::detail
