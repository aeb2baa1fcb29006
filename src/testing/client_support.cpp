#include "testing/client_support.hpp"

#include <stdexcept>

#include <boost/json/parse.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>

namespace flamecpp::testing::client {

namespace urls = boost::urls;

std::optional<std::string> find_header(const Headers& headers, std::string_view name) {
    for (const auto& [key, value] : headers) {
        if (::flamecpp::detail::iequals(key, name)) {
            return value;
        }
    }
    return std::nullopt;
}

std::string preview(std::string_view bytes) {
    constexpr std::size_t max = 200;
    std::string out;
    for (char c : bytes.substr(0, max)) {
        out += (c >= 0x20 && c < 0x7f) ? c : '.';
    }
    if (bytes.size() > max) {
        out += "...";
    }
    return out;
}

boost::json::value parse_json(std::string_view text, std::string_view what) {
    boost::system::error_code ec;
    boost::json::value value = boost::json::parse(text, ec);
    if (ec) {
        throw std::runtime_error(std::string(what) + " is not JSON (" + ec.message() + "): \"" +
                                 preview(text) + "\"");
    }
    return value;
}

std::string describe(milliseconds timeout) { return std::to_string(timeout.count()) + " ms"; }

milliseconds left_until(Clock::time_point deadline) {
    return std::max(milliseconds(1),
                    std::chrono::duration_cast<milliseconds>(deadline - Clock::now()));
}

std::string make_target(std::string_view path, const QueryParams& query) {
    if (path.empty() || path.front() != '/') {
        throw std::invalid_argument("TestClient: the path must start with '/': \"" +
                                    std::string(path) + "\"");
    }
    urls::url url;
    if (auto parsed = urls::parse_origin_form(path)) {
        url = *parsed;
    } else {
        // Not a valid target as written (a space, say): encode what needs encoding.
        auto question = path.find('?');
        url.set_path(path.substr(0, question));
        if (question != std::string_view::npos) {
            url.set_query(path.substr(question + 1));
        }
    }
    for (const auto& [name, value] : query) {
        url.params().append({name, value});
    }
    return std::string(url.encoded_target());
}

std::string encode_form(const std::vector<std::pair<std::string, std::string>>& fields,
                        const std::vector<FormFile>& files,
                        std::string& content_type) {
    if (files.empty()) {
        urls::url url;
        for (const auto& [name, value] : fields) {
            url.params().append({name, value});
        }
        content_type = "application/x-www-form-urlencoded";
        return std::string(url.encoded_query());
    }
    // A boundary found in no value: the body is framed by it alone.
    std::string boundary;
    for (unsigned n = 0;; ++n) {
        boundary = "flamecpp-test-boundary-" + std::to_string(n);
        const auto in = [&](std::string_view text) {
            return text.find(boundary) != std::string_view::npos;
        };
        bool taken = false;
        for (const auto& [name, value] : fields) {
            taken = taken || in(value);
        }
        for (const auto& file : files) {
            taken = taken || in(file.content);
        }
        if (!taken) {
            break;
        }
    }
    const auto quoted = [](std::string_view text) {
        // As browsers do (HTML's multipart/form-data encoding): '"' and line ends escaped.
        std::string out = "\"";
        for (char c : text) {
            if (c == '"') {
                out += "%22";
            } else if (c == '\r') {
                out += "%0D";
            } else if (c == '\n') {
                out += "%0A";
            } else {
                out += c;
            }
        }
        out += '"';
        return out;
    };
    std::string body;
    const auto part_head = [&](std::string_view name) {
        body.append("--").append(boundary);
        body.append("\r\nContent-Disposition: form-data; name=").append(quoted(name));
    };
    for (const auto& [name, value] : fields) {
        part_head(name);
        body.append("\r\n\r\n").append(value).append("\r\n");
    }
    for (const auto& file : files) {
        if (file.content_type.find_first_of("\r\n") != std::string::npos) {
            throw std::invalid_argument("TestClient: a file's content type holds a line break");
        }
        part_head(file.field);
        body.append("; filename=").append(quoted(file.filename));
        body.append("\r\nContent-Type: ").append(file.content_type);
        body.append("\r\n\r\n").append(file.content).append("\r\n");
    }
    body += "--" + boundary + "--\r\n";
    content_type = "multipart/form-data; boundary=" + boundary;
    return body;
}

std::string_view path_of(std::string_view target) { return target.substr(0, target.find('?')); }

bool is_redirect(int status) {
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

}  // namespace flamecpp::testing::client
