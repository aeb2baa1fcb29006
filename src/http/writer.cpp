#include "http/writer.hpp"

#include <array>
#include <charconv>
#include <stdexcept>

#include <fmt/chrono.h>
#include <fmt/format.h>

namespace flamecpp::detail {

std::string format_http_date(std::time_t t) {
    std::tm tm{};
    gmtime_r(&t, &tm);
    // fmt's chrono specifiers are locale-independent unless 'L' is given.
    return fmt::format("{:%a, %d %b %Y %H:%M:%S} GMT", tm);
}

std::string_view DateCache::now() {
    std::time_t t = std::time(nullptr);
    if (t != second_) {
        auto text = format_http_date(t);
        size_ = text.copy(text_, sizeof(text_));
        second_ = t;
    }
    return {text_, size_};
}

namespace {

/// RFC 9110 5.6.2 tchar, as a table: the writer checks every response header name.
constexpr std::array<bool, 256> token_chars = [] {
    std::array<bool, 256> table{};
    for (std::size_t c = '0'; c <= '9'; ++c) {
        table[c] = true;
    }
    for (std::size_t c = 'a'; c <= 'z'; ++c) {
        table[c] = true;
        table[c - 'a' + 'A'] = true;
    }
    for (char c : std::string_view("!#$%&'*+-.^_`|~")) {
        table[static_cast<unsigned char>(c)] = true;
    }
    return table;
}();

}  // namespace

bool is_token(std::string_view s) noexcept {
    if (s.empty()) {
        return false;
    }
    for (char c : s) {
        if (!token_chars[static_cast<unsigned char>(c)]) {
            return false;
        }
    }
    return true;
}

namespace {

/// No CR, LF or NUL. A plain loop: find_first_of calls memchr once per character.
bool is_safe_value(std::string_view v) noexcept {
    for (char c : v) {
        if (c == '\r' || c == '\n' || c == '\0') {
            return false;
        }
    }
    return true;
}

void append_number(std::string& out, std::uint64_t n) {
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), n);
    out.append(buf, end);
}

void append_length(std::string& out, std::uint64_t length) {
    out.append("Content-Length: ");
    append_number(out, length);
    out.append("\r\n");
}

void append_field(std::string& out, std::string_view name, std::string_view value) {
    out.append(name);
    out.append(": ");
    out.append(value);
    out.append("\r\n");
}

/// Status line, Server, Date and Content-Type: the part HeadCache keeps.
void append_block(std::string& out, const Response& response, const HeadOptions& options) {
    if (!is_safe_value(response.content_type())) {
        throw std::invalid_argument("flamecpp: the response content type holds CR, LF or NUL");
    }
    const auto code = static_cast<unsigned>(response.status());
    out.append("HTTP/1.1 ");
    append_number(out, code);
    out.push_back(' ');
    out.append(reason_phrase(response.status()));
    out.append("\r\n");
    append_field(out, "Server", options.server);
    append_field(out, "Date", options.date);
    if (!response.content_type().empty()) {
        append_field(out, "Content-Type", response.content_type());
    }
}

}  // namespace

std::string_view HeadCache::block(const Response& response,
                                  const HeadOptions& options,
                                  std::uint64_t length) {
    if (!valid_ || status_ != response.status() || date_ != options.date ||
        content_type_ != response.content_type() || server_ != options.server) {
        prefix(response, options);
    }
    if (length != length_) {
        block_.resize(prefix_size_);
        if (length != no_length) {
            append_length(block_, length);
        }
        length_ = length;
    }
    return block_;
}

void HeadCache::prefix(const Response& response, const HeadOptions& options) {
    valid_ = false;
    block_.clear();
    append_block(block_, response, options);  // throws for a bad content type: stays invalid
    status_ = response.status();
    server_.assign(options.server);
    date_.assign(options.date);
    content_type_.assign(response.content_type());
    prefix_size_ = block_.size();
    length_ = no_length;
    valid_ = true;
}

void write_head(std::string& out, const Response& response, const HeadOptions& options) {
    for (const auto& [name, value] : response.headers()) {
        if (!is_token(name) || !is_safe_value(value)) {
            throw std::invalid_argument("flamecpp: response header '" + name +
                                        "' has a name or value that would break HTTP framing");
        }
    }
    std::uint64_t length = HeadCache::no_length;
    if (!options.chunked && !status_forbids_body(response.status())) {
        length = response.is_file() ? response.file_length() : response.body().size();
    }
    if (options.cache != nullptr) {
        out.append(options.cache->block(response, options, length));
    } else {
        append_block(out, response, options);
        if (length != HeadCache::no_length) {
            append_length(out, length);
        }
    }
    if (options.chunked) {
        out.append("Transfer-Encoding: chunked\r\n");
    }
    for (const auto& [name, value] : response.headers()) {
        append_field(out, name, value);
    }
    if (options.close) {
        out.append("Connection: close\r\n");
    } else if (options.keep_alive_10) {
        out.append("Connection: keep-alive\r\n");
    }
    out.append("\r\n");
}

}  // namespace flamecpp::detail
