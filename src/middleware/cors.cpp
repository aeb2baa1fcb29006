#include <algorithm>
#include <optional>
#include <regex>
#include <stdexcept>
#include <string>
#include <utility>

#include <flamecpp/builtin_middleware.hpp>

#include "text/ascii.hpp"

namespace flamecpp {

namespace {

std::string lowercase(std::string_view text) {
    std::string out(text);
    for (char& c : out) {
        c = detail::ascii_lower(c);
    }
    return out;
}

bool contains(const std::vector<std::string>& list, std::string_view item) {
    return std::find(list.begin(), list.end(), item) != list.end();
}

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& item : items) {
        if (!out.empty()) {
            out += ", ";
        }
        out += item;
    }
    return out;
}

}  // namespace

/// The options, digested once: lowercased header names, the header values every answer
/// repeats, the compiled regular expression.
struct CORS::Policy {
    explicit Policy(CORSOptions options)
        : origins(std::move(options.allow_origins)),
          any_origin(contains(origins, "*")),
          any_method(contains(options.allow_methods, "*")),
          any_header(contains(options.allow_headers, "*")),
          credentials(options.allow_credentials),
          methods(std::move(options.allow_methods)),
          expose(join(options.expose_headers)),
          max_age(std::to_string(options.max_age)) {
        if (!options.allow_origin_regex.empty()) {
            try {
                regex.emplace(options.allow_origin_regex, std::regex::ECMAScript);
            } catch (const std::regex_error& e) {
                throw std::invalid_argument("flamecpp: CORS allow_origin_regex \"" +
                                            options.allow_origin_regex + "\": " + e.what());
            }
        }
        headers = {"accept", "accept-language", "content-language", "content-type"};
        for (const auto& h : options.allow_headers) {
            if (h != "*" && !contains(headers, lowercase(h))) {
                headers.push_back(lowercase(h));
            }
        }
        std::sort(headers.begin(), headers.end());
        allowed_headers = join(headers);
        allowed_methods =
            any_method ? "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT" : join(methods);
    }

    bool allows_origin(std::string_view origin) const {
        if (any_origin || contains(origins, origin)) {
            return true;
        }
        return regex && std::regex_match(origin.begin(), origin.end(), *regex);
    }

    /// The origin to name in Access-Control-Allow-Origin: `*` only when any origin is allowed
    /// and no credentials are; otherwise the request's own, and the answer varies with it.
    bool names_origin() const noexcept { return !any_origin || credentials; }

    Response preflight(const Request& request, std::string_view origin) const {
        std::string failures;
        auto fail = [&failures](std::string_view what) {
            failures += failures.empty() ? "" : ", ";
            failures += what;
        };
        const bool origin_ok = allows_origin(origin);
        if (!origin_ok) {
            fail("origin");
        }
        const std::string_view method =
            request.header("Access-Control-Request-Method").value_or("");
        if (!any_method && !contains(methods, detail::trim_ows(method))) {
            fail("method");
        }
        const auto requested = request.header("Access-Control-Request-Headers");
        if (requested && !any_header &&
            detail::for_each_list_item(*requested, [this](std::string_view name) {
                return !contains(headers, lowercase(name));
            })) {
            fail("headers");
        }

        Response response =
            failures.empty() ? Response::empty(Status::ok)
                             : Response::text("Disallowed CORS " + failures, Status::bad_request);
        if (origin_ok) {
            response.with_header("Access-Control-Allow-Origin",
                                 names_origin() ? std::string(origin) : std::string("*"));
            if (credentials) {
                response.with_header("Access-Control-Allow-Credentials", "true");
            }
        }
        response.with_header("Access-Control-Allow-Methods", allowed_methods);
        if (any_header && requested) {
            response.with_header("Access-Control-Allow-Headers", std::string(*requested));
        } else {
            response.with_header("Access-Control-Allow-Headers", allowed_headers);
        }
        response.with_header("Access-Control-Max-Age", max_age);
        if (names_origin()) {
            response.vary("Origin");
        }
        return response;
    }

    void decorate(Response& response, std::string_view origin) const {
        if (names_origin()) {
            response.vary("Origin");
        }
        if (!allows_origin(origin)) {
            return;
        }
        response.set_header("Access-Control-Allow-Origin",
                            names_origin() ? std::string(origin) : std::string("*"));
        if (credentials) {
            response.set_header("Access-Control-Allow-Credentials", "true");
        }
        if (!expose.empty()) {
            response.set_header("Access-Control-Expose-Headers", expose);
        }
    }

    std::vector<std::string> origins;
    std::optional<std::regex> regex;
    bool any_origin;
    bool any_method;
    bool any_header;
    bool credentials;
    std::vector<std::string> methods;
    std::vector<std::string> headers;  // lowercase, sorted
    std::string allowed_methods;
    std::string allowed_headers;
    std::string expose;
    std::string max_age;
};

CORS::CORS(CORSOptions options) : policy_(std::make_shared<const Policy>(std::move(options))) {}

bool CORS::allows_origin(std::string_view origin) const { return policy_->allows_origin(origin); }

Task<Response> CORS::operator()(Request& request, Next next) const {
    const auto origin = request.header("Origin");
    if (!origin) {
        co_return co_await next();  // not a cross-origin request
    }
    if (request.method() == Method::options && request.header("Access-Control-Request-Method")) {
        co_return policy_->preflight(request, *origin);
    }
    // The request's headers stay valid while it is handled; keep the origin's view.
    const std::string_view seen = *origin;
    Response response = co_await next();
    policy_->decorate(response, seen);
    co_return response;
}

}  // namespace flamecpp
