#include <flamecpp/request.hpp>

#include "http/ascii.hpp"
#include "http/percent.hpp"

namespace flamecpp {

std::optional<std::string_view> Request::header(std::string_view name) const noexcept {
    for (const auto& h : headers_) {
        if (detail::iequals(h.name, name)) {
            return h.value;
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
