#include "http/multipart.hpp"

#include <algorithm>
#include <exception>

#include "text/ascii.hpp"
#include "text/percent.hpp"

namespace flamecpp::detail {
namespace {

/// RFC 9110 5.6.2 tchar.
bool is_tchar(char c) noexcept {
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
        return true;
    }
    return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

std::size_t token_length(std::string_view s) noexcept {
    std::size_t n = 0;
    while (n < s.size() && is_tchar(s[n])) {
        ++n;
    }
    return n;
}

/// RFC 2046 5.1.1 bchars.
bool is_bchar(char c) noexcept {
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
        return true;
    }
    return std::string_view("'()+_,-./:=? ").find(c) != std::string_view::npos;
}

std::string_view skip_ows(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
        s.remove_prefix(1);
    }
    return s;
}

/// A parameter value at the start of `s` (a token, or a quoted-string with its quoted-pairs
/// undone) into `out`; `s` is advanced past it. False when a quoted-string is not closed.
bool parameter_value(std::string_view& s, std::string& out) {
    out.clear();
    if (!s.empty() && s.front() == '"') {
        for (std::size_t i = 1; i < s.size(); ++i) {
            const char c = s[i];
            if (c == '\\' && i + 1 < s.size()) {
                out += s[++i];
            } else if (c == '"') {
                s.remove_prefix(i + 1);
                return true;
            } else {
                out += c;
            }
        }
        return false;
    }
    const std::size_t n = token_length(s);
    out.assign(s.substr(0, n));
    s.remove_prefix(n);
    return true;
}

/// An RFC 8187 ext-value (`UTF-8'lang'percent-encoded`) into `out`; false for another
/// charset or a bad escape.
bool ext_value(std::string_view value, std::string& out) {
    const auto first = value.find('\'');
    if (first == std::string_view::npos) {
        return false;
    }
    const auto second = value.find('\'', first + 1);
    if (second == std::string_view::npos || !iequals(value.substr(0, first), "utf-8")) {
        return false;
    }
    out.clear();
    return percent_decode_append(value.substr(second + 1), out);
}

}  // namespace

std::string multipart_boundary(std::string_view content_type) {
    const auto semi = content_type.find(';');
    if (!iequals(trim_ows(content_type.substr(0, semi)), "multipart/form-data") ||
        semi == std::string_view::npos) {
        return {};
    }
    std::string_view rest = content_type.substr(semi);
    std::string value;
    std::string boundary;
    bool found = false;
    while (!rest.empty()) {
        if (rest.front() != ';') {
            return {};
        }
        rest = skip_ows(rest.substr(1));
        if (rest.empty()) {
            break;  // a trailing ';'
        }
        const std::size_t n = token_length(rest);
        const std::string_view name = rest.substr(0, n);
        rest.remove_prefix(n);
        if (n == 0 || rest.empty() || rest.front() != '=') {
            return {};
        }
        rest.remove_prefix(1);
        if (!parameter_value(rest, value)) {
            return {};
        }
        rest = skip_ows(rest);
        if (iequals(name, "boundary")) {
            if (found) {
                return {};  // two boundaries: which one?
            }
            found = true;
            boundary = value;
        }
    }
    if (boundary.empty() || boundary.size() > 70 || boundary.back() == ' ' ||
        !std::all_of(boundary.begin(), boundary.end(), is_bchar)) {
        return {};
    }
    return boundary;
}

MultipartParser::MultipartParser(std::string_view boundary)
    : delimiter_("\r\n--"), buffer_("\r\n") {
    // The first delimiter may open the body without a line end before it: with one put in
    // front, every delimiter is found the same way.
    delimiter_.append(boundary);
}

bool MultipartParser::fail(std::string_view why) {
    state_ = State::failed;
    error_.assign(why);
    buffer_.clear();
    return false;
}

bool MultipartParser::feed(std::string_view bytes, MultipartSink& sink) {
    if (state_ == State::failed) {
        return false;
    }
    if (state_ == State::epilogue) {
        return true;
    }
    buffer_.append(bytes);
    std::size_t pos = 0;
    try {
        for (;;) {
            const std::string_view rest = std::string_view(buffer_).substr(pos);
            if (state_ == State::preamble || state_ == State::body) {
                const auto at = rest.find(delimiter_);
                if (at == std::string_view::npos) {
                    // Keep what may be the start of a delimiter split by the read: from the
                    // first CR among the last bytes.
                    std::size_t used = rest.size();
                    if (rest.size() >= delimiter_.size()) {
                        const auto cr = rest.find('\r', rest.size() - (delimiter_.size() - 1));
                        used = cr == std::string_view::npos ? rest.size() : cr;
                    } else {
                        used = std::min(rest.size(), rest.find('\r'));
                    }
                    if (state_ == State::body && used != 0) {
                        sink.part_data(rest.substr(0, used));
                    }
                    pos += used;
                    break;
                }
                if (state_ == State::body) {
                    if (at != 0) {
                        sink.part_data(rest.substr(0, at));
                    }
                    sink.end_part();
                }
                pos += at + delimiter_.size();
                state_ = State::after_delimiter;
                continue;
            }
            if (state_ == State::after_delimiter) {
                if (rest.size() < 2) {
                    break;
                }
                if (rest.starts_with("--")) {
                    state_ = State::epilogue;  // the closing delimiter: the rest is ignored
                    pos = buffer_.size();
                    break;
                }
                // RFC 2046's transport padding, then the line end.
                std::size_t i = 0;
                while (i < rest.size() && (rest[i] == ' ' || rest[i] == '\t')) {
                    ++i;
                }
                if (i > 32) {
                    return fail("a boundary line is followed by too much white space");
                }
                if (i + 2 > rest.size()) {
                    break;
                }
                if (rest[i] != '\r' || rest[i + 1] != '\n') {
                    return fail("a boundary is followed by something other than a line end");
                }
                pos += i + 2;
                state_ = State::headers;
                headers_.clear();
                part_ = MultipartPart{};
                has_disposition_ = false;
                continue;
            }
            if (state_ == State::headers) {
                const auto eol = rest.find("\r\n");
                if (eol == std::string_view::npos) {
                    if (headers_.size() + rest.size() > max_header_bytes) {
                        return fail("a part's header section is too large");
                    }
                    break;
                }
                if (headers_.size() + eol + 2 > max_header_bytes) {
                    return fail("a part's header section is too large");
                }
                const std::string_view line = rest.substr(0, eol);
                pos += eol + 2;
                if (line.empty()) {
                    if (headers_.empty()) {
                        return fail("a part has no header section");
                    }
                    if (!has_disposition_) {
                        return fail("a part has no Content-Disposition: form-data with a name");
                    }
                    if (part_.content_type.empty()) {
                        part_.content_type = "text/plain";
                    }
                    state_ = State::body;
                    sink.begin_part(part_);
                    continue;
                }
                headers_.append(line);
                headers_.append("\r\n");
                if (!header_line(line)) {
                    return false;
                }
                continue;
            }
            pos = buffer_.size();  // the epilogue
            break;
        }
    } catch (...) {
        state_ = State::failed;
        buffer_.clear();
        throw;
    }
    buffer_.erase(0, pos);
    return true;
}

bool MultipartParser::header_line(std::string_view line) {
    if (line.front() == ' ' || line.front() == '\t') {
        return fail("a part's header line is folded");
    }
    if (line.find_first_of("\r\n") != std::string_view::npos) {
        return fail("a part's header line holds a bare CR or LF");
    }
    const std::size_t n = token_length(line);
    if (n == 0 || n >= line.size() || line[n] != ':') {
        return fail("a part's header line is not 'name: value'");
    }
    const std::string_view name = line.substr(0, n);
    const std::string_view value = trim_ows(line.substr(n + 1));
    if (iequals(name, "content-type")) {
        if (value.empty() || !part_.content_type.empty()) {
            return fail("a part has an empty or repeated Content-Type");
        }
        part_.content_type.assign(value);
        return true;
    }
    if (!iequals(name, "content-disposition")) {
        return true;  // others (Content-Transfer-Encoding, ...) do not matter to a form
    }
    if (has_disposition_) {
        return fail("a part has two Content-Disposition headers");
    }
    std::string_view rest = value;
    const std::size_t type_length = token_length(rest);
    if (!iequals(rest.substr(0, type_length), "form-data")) {
        return fail("a part's Content-Disposition is not form-data");
    }
    rest = skip_ows(rest.substr(type_length));
    std::optional<std::string> name_value;
    std::optional<std::string> filename;
    std::optional<std::string> filename_ext;
    std::string text;
    while (!rest.empty()) {
        if (rest.front() != ';') {
            return fail("a part's Content-Disposition is malformed");
        }
        rest = skip_ows(rest.substr(1));
        if (rest.empty()) {
            break;
        }
        const std::size_t k = token_length(rest);
        const std::string_view key = rest.substr(0, k);
        rest = skip_ows(rest.substr(k));
        if (k == 0 || rest.empty() || rest.front() != '=') {
            return fail("a part's Content-Disposition is malformed");
        }
        rest = skip_ows(rest.substr(1));
        if (!parameter_value(rest, text)) {
            return fail("a part's Content-Disposition has an unclosed quote");
        }
        rest = skip_ows(rest);
        std::optional<std::string>* slot = nullptr;
        if (iequals(key, "name")) {
            slot = &name_value;
        } else if (iequals(key, "filename")) {
            slot = &filename;
        } else if (iequals(key, "filename*")) {
            std::string decoded;
            if (!ext_value(text, decoded)) {
                return fail("a part's filename* is not UTF-8 percent-encoded");
            }
            text = std::move(decoded);
            slot = &filename_ext;
        }
        if (slot != nullptr) {
            if (slot->has_value()) {
                return fail("a part's Content-Disposition repeats a parameter");
            }
            *slot = std::move(text);
        }
    }
    if (!name_value) {
        return fail("a part has no Content-Disposition: form-data with a name");
    }
    has_disposition_ = true;
    part_.name = std::move(*name_value);
    part_.filename = filename_ext ? std::move(filename_ext) : std::move(filename);
    return true;
}

bool MultipartParser::finish() {
    if (state_ == State::epilogue) {
        return true;
    }
    if (state_ != State::failed) {
        fail(state_ == State::preamble ? "the body holds no boundary"
                                       : "the body ends before its closing boundary");
    }
    return false;
}

}  // namespace flamecpp::detail
