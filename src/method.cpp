#include <flamecpp/method.hpp>

namespace flamecpp {

std::string_view to_string(Method m) noexcept {
    switch (m) {
        case Method::get:
            return "GET";
        case Method::head:
            return "HEAD";
        case Method::post:
            return "POST";
        case Method::put:
            return "PUT";
        case Method::patch:
            return "PATCH";
        case Method::delete_:
            return "DELETE";
        case Method::options:
            return "OPTIONS";
        case Method::other:
            return "OTHER";
    }
    return "OTHER";
}

std::string MethodSet::allow_header() const {
    std::string out;
    for (Method m : detail::http_verbs) {
        if (contains(m)) {
            if (!out.empty()) {
                out += ", ";
            }
            out += to_string(m);
        }
    }
    return out;
}

}  // namespace flamecpp
