#include <flamecpp/forms.hpp>
#include <flamecpp/http_exception.hpp>
#include <flamecpp/request.hpp>

#include "text/ascii.hpp"
#include "text/percent.hpp"

namespace flamecpp {

std::optional<std::string_view> FormData::get(std::string_view name) const noexcept {
    for (const auto& [n, v] : fields_) {
        if (n == name) {
            return std::string_view(v);
        }
    }
    return std::nullopt;
}

std::vector<std::string_view> FormData::get_all(std::string_view name) const {
    std::vector<std::string_view> out;
    for (const auto& [n, v] : fields_) {
        if (n == name) {
            out.emplace_back(v);
        }
    }
    return out;
}

namespace detail {

bool decode_urlencoded(std::string_view body, std::vector<FormData::Field>& out) {
    std::vector<FormData::Field> fields;
    while (!body.empty()) {
        const auto amp = body.find('&');
        const std::string_view pair = body.substr(0, amp);
        body = amp == std::string_view::npos ? std::string_view{} : body.substr(amp + 1);
        if (pair.empty()) {
            continue;
        }
        const auto eq = pair.find('=');
        FormData::Field field;
        if (!percent_decode_append(pair.substr(0, eq), field.first, /*plus_as_space=*/true)) {
            return false;
        }
        if (eq != std::string_view::npos &&
            !percent_decode_append(pair.substr(eq + 1), field.second, /*plus_as_space=*/true)) {
            return false;
        }
        fields.push_back(std::move(field));
    }
    out.insert(out.end(), std::make_move_iterator(fields.begin()),
               std::make_move_iterator(fields.end()));
    return true;
}

FormData read_form(const Request& request) {
    const std::string_view type = request.header("Content-Type").value_or("");
    const std::string_view media = trim_ows(type.substr(0, type.find(';')));
    if (!iequals(media, "application/x-www-form-urlencoded")) {
        throw HTTPException(Status::unsupported_media_type,
                            "the body must be a form (application/x-www-form-urlencoded)");
    }
    std::vector<FormData::Field> fields;
    if (!decode_urlencoded(request.body(), fields)) {
        throw HTTPException(Status::bad_request, "the form body holds a bad percent escape");
    }
    return FormData(std::move(fields));
}

}  // namespace detail
}  // namespace flamecpp
