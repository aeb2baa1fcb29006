#include <algorithm>
#include <stdexcept>
#include <string>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/grammar/lut_chars.hpp>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <flamecpp/http_exception.hpp>
#include <flamecpp/response.hpp>

#include "http/files.hpp"
#include "json/writer.hpp"
#include "json_detail_response.hpp"
#include "text/ascii.hpp"

namespace flamecpp {

Response json_detail_response(Status status, std::string_view detail) {
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

namespace {

/// RFC 8187 attr-char: what an ext-value keeps as it is.
constexpr boost::urls::grammar::lut_chars attr_chars(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$&+-.^_`|~");

/// `attachment; filename="..."` with an ASCII stand-in for clients that read only that, and
/// `filename*=UTF-8''...` (RFC 6266 4.3) when the name is more than plain ASCII.
std::string content_disposition(std::string_view name) {
    std::string fallback;
    bool plain = true;
    for (unsigned char c : name) {
        const bool ok = c >= 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '%';
        fallback += ok ? static_cast<char>(c) : '_';
        plain = plain && ok;
    }
    std::string out = "attachment; filename=\"" + fallback + "\"";
    if (!plain) {
        out += "; filename*=UTF-8''";
        out += boost::urls::encode(name, attr_chars);
    }
    return out;
}

}  // namespace

Response Response::file(std::string_view path, const FileOptions& options) {
    const std::string name(path);
    const int fd = ::open(name.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    struct stat st {};
    if (fd < 0 || ::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0) {
            ::close(fd);
        }
        throw HTTPException(Status::not_found);
    }
    Response r = detail::make_file_response(fd, name, options.content_type);
    if (!options.download_name.empty()) {
        r.with_header("Content-Disposition", content_disposition(options.download_name));
    }
    return r;
}

std::uint64_t Response::file_length() const noexcept {
    return is_file() ? extras_->file->length : 0;
}

Response& Response::with_header(std::string name, std::string value) & {
    headers_.emplace_back(std::move(name), std::move(value));
    return *this;
}

Response&& Response::with_header(std::string name, std::string value) && {
    headers_.emplace_back(std::move(name), std::move(value));
    return std::move(*this);
}

namespace {

// RFC 9110 5.6.2 tchar.
bool is_token(std::string_view s) noexcept {
    constexpr std::string_view extra = "!#$%&'*+-.^_`|~";
    if (s.empty()) {
        return false;
    }
    for (char c : s) {
        bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        if (!alnum && extra.find(c) == std::string_view::npos) {
            return false;
        }
    }
    return true;
}

// RFC 6265 4.1.1 cookie-octet.
bool is_cookie_value(std::string_view s) noexcept {
    for (unsigned char c : s) {
        if (c < 0x21 || c > 0x7E || c == '"' || c == ',' || c == ';' || c == '\\') {
            return false;
        }
    }
    return true;
}

// Path and Domain attribute values: any CHAR except CTLs and ';' (RFC 6265 4.1.1).
bool is_attribute_value(std::string_view s) noexcept {
    for (unsigned char c : s) {
        if (c < 0x20 || c == 0x7F || c == ';') {
            return false;
        }
    }
    return true;
}

std::string set_cookie_value(std::string_view name,
                             std::string_view value,
                             const CookieOptions& options) {
    if (!is_token(name)) {
        throw std::invalid_argument("cookie name '" + std::string(name) + "' is not an HTTP token");
    }
    if (!is_cookie_value(value)) {
        throw std::invalid_argument("the value of cookie '" + std::string(name) +
                                    "' has characters a cookie cannot carry (encode it)");
    }
    if (!is_attribute_value(options.path) || !is_attribute_value(options.domain)) {
        throw std::invalid_argument("the Path or Domain of cookie '" + std::string(name) +
                                    "' contains ';' or control characters");
    }
    std::string out;
    out.reserve(name.size() + value.size() + options.path.size() + 64);
    out.append(name).append("=").append(value);
    if (!options.path.empty()) {
        out.append("; Path=").append(options.path);
    }
    if (!options.domain.empty()) {
        out.append("; Domain=").append(options.domain);
    }
    if (options.max_age) {
        out.append("; Max-Age=")
            .append(std::to_string(std::max<std::int64_t>(*options.max_age, 0)));
    }
    if (options.secure || options.same_site == SameSite::none) {
        out.append("; Secure");  // browsers drop SameSite=None cookies without it
    }
    if (options.http_only) {
        out.append("; HttpOnly");
    }
    switch (options.same_site) {
        case SameSite::unset:
            break;
        case SameSite::lax:
            out.append("; SameSite=Lax");
            break;
        case SameSite::strict:
            out.append("; SameSite=Strict");
            break;
        case SameSite::none:
            out.append("; SameSite=None");
            break;
    }
    return out;
}

CookieOptions expired(CookieOptions options) {
    options.max_age = 0;
    return options;
}

}  // namespace

Response& Response::set_cookie(std::string_view name,
                               std::string_view value,
                               const CookieOptions& options) & {
    headers_.emplace_back("Set-Cookie", set_cookie_value(name, value, options));
    return *this;
}

Response&& Response::set_cookie(std::string_view name,
                                std::string_view value,
                                const CookieOptions& options) && {
    return std::move(set_cookie(name, value, options));
}

Response& Response::delete_cookie(std::string_view name, const CookieOptions& options) & {
    return set_cookie(name, "", expired(options));
}

Response&& Response::delete_cookie(std::string_view name, const CookieOptions& options) && {
    return std::move(delete_cookie(name, options));
}

std::string_view Response::header(std::string_view name) const noexcept {
    for (const auto& [n, v] : headers_) {
        if (detail::iequals(n, name)) {
            return v;
        }
    }
    return {};
}

detail::ResponseExtras& Response::own_extras() {
    if (extras_ == nullptr) {
        extras_ = std::make_shared<detail::ResponseExtras>();
    } else if (extras_.use_count() > 1) {
        extras_ = std::make_shared<detail::ResponseExtras>(*extras_);  // copy on write
    }
    return *extras_;
}

Response& Response::background(Task<void> task) & {
    auto& extras = own_extras();
    if (!extras.background) {
        extras.background = std::make_shared<std::vector<Task<void>>>();
    }
    extras.background->push_back(std::move(task));
    return *this;
}

Response&& Response::background(Task<void> task) && {
    return std::move(background(std::move(task)));
}

std::vector<Task<void>> Response::take_background() noexcept {
    std::vector<Task<void>> tasks;
    if (has_background()) {
        tasks = std::move(*extras_->background);
        if (extras_.use_count() == 1) {
            extras_->background.reset();  // shared with a copy: left empty, not reset
        }
    }
    return tasks;
}

Response& Response::set_header(std::string name, std::string value) {
    auto first = std::find_if(headers_.begin(), headers_.end(), [&](const auto& field) {
        return detail::iequals(field.first, name);
    });
    if (first == headers_.end()) {
        headers_.emplace_back(std::move(name), std::move(value));
        return *this;
    }
    first->second = std::move(value);
    headers_.erase(std::remove_if(std::next(first), headers_.end(),
                                  [&](const auto& field) {
                                      return detail::iequals(field.first, first->first);
                                  }),
                   headers_.end());
    return *this;
}

std::size_t Response::remove_header(std::string_view name) noexcept {
    return std::erase_if(headers_,
                         [&](const auto& field) { return detail::iequals(field.first, name); });
}

Response& Response::vary(std::string_view field) {
    // Vary is a comma-separated list of field names (RFC 9110 12.5.5), case-insensitive, and
    // may come in several lines: they are merged into one.
    std::string merged;
    bool listed = false;
    for (const auto& [name, value] : headers_) {
        if (!detail::iequals(name, "Vary")) {
            continue;
        }
        listed = listed || detail::for_each_list_item(value, [field](std::string_view item) {
                     return item == "*" || detail::iequals(item, field);
                 });
        if (!detail::trim_ows(value).empty()) {
            merged += merged.empty() ? "" : ", ";
            merged += detail::trim_ows(value);
        }
    }
    if (listed) {
        return *this;
    }
    merged += merged.empty() ? "" : ", ";
    merged += field;
    return set_header("Vary", std::move(merged));
}

}  // namespace flamecpp
