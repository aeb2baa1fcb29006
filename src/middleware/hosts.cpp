#include <algorithm>
#include <utility>

#include <flamecpp/builtin_middleware.hpp>
#include <flamecpp/security.hpp>

#include "text/ascii.hpp"

namespace flamecpp {

RequestID::RequestID(std::string header) : header_(std::move(header)) {}

bool RequestID::acceptable(std::string_view id) noexcept {
    return !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '.' || c == '_' || c == '-';
    });
}

Task<Response> RequestID::operator()(Request& request, Next next) const {
    auto own = request.header(header_);
    std::string id = own && acceptable(*own) ? std::string(*own) : random_uuid();
    Response response = co_await next();
    if (response.header(header_).empty()) {
        response.with_header(header_, std::move(id));
    }
    co_return response;
}

namespace {

std::string lowercase(std::string_view text) {
    std::string out(text);
    for (char& c : out) {
        c = detail::ascii_lower(c);
    }
    return out;
}

/// The host of a Host header value: without the port, brackets kept for an IPv6 literal.
std::string_view host_part(std::string_view host) noexcept {
    if (!host.empty() && host.front() == '[') {
        auto end = host.find(']');
        return end == std::string_view::npos ? host : host.substr(0, end + 1);
    }
    return host.substr(0, host.find(':'));
}

}  // namespace

TrustedHost::TrustedHost(std::vector<std::string> allowed_hosts)
    : allowed_(std::move(allowed_hosts)) {
    for (auto& host : allowed_) {
        host = lowercase(host);
        any_ = any_ || host == "*";
    }
}

bool TrustedHost::allows(std::string_view host) const noexcept {
    if (any_) {
        return true;
    }
    if (!detail::valid_host(host)) {
        return false;  // user info, a path, a bad port: not a host whatever its name says
    }
    const std::string_view name = host_part(host);
    for (const auto& pattern : allowed_) {
        if (pattern.starts_with("*.")) {
            const std::string_view suffix = std::string_view(pattern).substr(1);  // ".example.com"
            if (name.size() > suffix.size() &&
                detail::iequals(name.substr(name.size() - suffix.size()), suffix)) {
                return true;
            }
        } else if (detail::iequals(name, pattern)) {
            return true;
        }
    }
    return false;
}

Task<Response> TrustedHost::operator()(Request& request, Next next) const {
    auto host = request.header("Host");
    if (!any_ && (!host || !allows(*host))) {
        co_return Response::text("Invalid host header", Status::bad_request);
    }
    co_return co_await next();
}

}  // namespace flamecpp
