#include <stdexcept>

#include <flamecpp/app.hpp>
#include <flamecpp/http_exception.hpp>
#include <flamecpp/request.hpp>

#include "text/ascii.hpp"
#include "text/percent.hpp"

namespace flamecpp {

std::optional<std::string_view> Request::header(std::string_view name) const noexcept {
    for (const auto& h : headers_) {
        if (detail::iequals(h.name, name)) {
            return h.value;
        }
    }
    return std::nullopt;
}

std::optional<std::string_view> Request::cookie(std::string_view name) const noexcept {
    for (const auto& h : headers_) {
        if (!detail::iequals(h.name, "cookie")) {
            continue;
        }
        // RFC 6265 5.4: "name=value" pairs separated by ';' (browsers add a space after it).
        std::string_view rest = h.value;
        while (!rest.empty()) {
            auto semicolon = rest.find(';');
            std::string_view pair = detail::trim_ows(rest.substr(0, semicolon));
            rest = semicolon == std::string_view::npos ? std::string_view{}
                                                       : rest.substr(semicolon + 1);
            auto equals = pair.find('=');
            if (equals == std::string_view::npos ||
                detail::trim_ows(pair.substr(0, equals)) != name) {
                continue;
            }
            std::string_view value = detail::trim_ows(pair.substr(equals + 1));
            if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
                value = value.substr(1, value.size() - 2);
            }
            return value;
        }
    }
    return std::nullopt;
}

std::optional<std::string_view> Request::path_param(std::string_view name) const noexcept {
    for (const auto& p : path_params_) {
        if (p.name == name) {
            return p.value;
        }
    }
    return std::nullopt;
}

std::optional<std::string> Request::query(std::string_view name) const {
    return detail::find_query_param(query_string_, name);
}

std::vector<std::string> Request::query_all(std::string_view name) const {
    std::vector<std::string> out;
    std::string_view rest = query_string_;
    while (auto value = detail::find_query_param(rest, name, &rest)) {
        out.push_back(std::move(*value));
    }
    return out;
}

}  // namespace flamecpp

namespace flamecpp {

void Request::set_client(std::string client) {
    client_storage_ = std::move(client);
    client_ = client_storage_;
}

Session& Request::session() const {
    if (!session_) {
        throw std::logic_error(
            "flamecpp: this handler takes flamecpp::Session& but no Sessions middleware ran "
            "before it: app.middleware(flamecpp::Sessions{{.secret_key = ...}})");
    }
    return *session_;
}

std::string Request::url_for(std::string_view name,
                             std::initializer_list<PathArgument> arguments) const {
    if (app_ == nullptr) {
        throw std::logic_error("flamecpp: Request::url_for needs a request the server made");
    }
    const std::string_view host = header("Host").value_or("localhost");
    if (!detail::valid_host(host)) {
        // A URL for another site would be built from it: the request is refused instead.
        throw HTTPException(Status::bad_request, "Invalid host header");
    }
    std::string url(scheme_);
    url += "://";
    url += host;
    url += app_->url_path_for(name, arguments);
    return url;
}

bool Request::set_scheme(std::string_view scheme) noexcept {
    if (detail::iequals(scheme, "http") || detail::iequals(scheme, "ws")) {
        scheme_ = "http";
    } else if (detail::iequals(scheme, "https") || detail::iequals(scheme, "wss")) {
        scheme_ = "https";
    } else {
        return false;
    }
    return true;
}

}  // namespace flamecpp
