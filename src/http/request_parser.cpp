#include "http/request_parser.hpp"

#include <functional>

#include <boost/asio/buffer.hpp>
#include <boost/url/parse.hpp>

#include "text/ascii.hpp"

namespace flamecpp::detail {
namespace http = boost::beast::http;

namespace {

/// Method names map onto the framework's enum; unknown tokens are `Method::other`.
Method to_method(http::verb v) noexcept {
    switch (v) {
        case http::verb::get:
            return Method::get;
        case http::verb::head:
            return Method::head;
        case http::verb::post:
            return Method::post;
        case http::verb::put:
            return Method::put;
        case http::verb::delete_:
            return Method::delete_;
        case http::verb::patch:
            return Method::patch;
        case http::verb::options:
            return Method::options;
        default:
            return Method::other;
    }
}

std::string_view sv(boost::beast::string_view s) noexcept { return {s.data(), s.size()}; }

}  // namespace

Status RequestParser::status(const error_code& ec) const noexcept {
    // A coding we do not implement is a 501 whoever stopped the parse: our header check, or
    // Beast on a list of codings it cannot frame ("gzip, chunked").
    if (refusal_ == Refusal::unsupported_coding ||
        (unsupported_coding_ && refusal_ == Refusal::none)) {
        return Status::not_implemented;
    }
    if (ec == http::error::header_limit) {
        return Status::request_header_fields_too_large;
    }
    if (ec == http::error::body_limit) {
        return Status::payload_too_large;
    }
    return Status::bad_request;
}

void RequestParser::on_request_impl(http::verb method,
                                    boost::beast::string_view method_str,
                                    boost::beast::string_view target,
                                    int version,
                                    error_code& ec) {
    method_ = to_method(method);
    version_ = static_cast<unsigned>(version);
    method_name_ = append(sv(method_str));
    const std::string_view raw = sv(target);
    if (raw.starts_with('/') || (method_ == Method::options && raw == "*")) {
        target_ = append(raw);  // origin-form, or OPTIONS's asterisk-form (RFC 9112 3.2.4)
        return;
    }
    // RFC 9112 3.2.2: a server MUST accept the absolute-form, and routes by its path and
    // query (the Host field is then ignored for the target's authority).
    auto uri = boost::urls::parse_absolute_uri(raw);
    if (!uri || (!iequals(uri->scheme(), "http") && !iequals(uri->scheme(), "https")) ||
        !uri->has_authority()) {
        refusal_ = Refusal::bad_target;
        ec = http::error::bad_target;
        return;
    }
    const std::size_t start = store_.size();
    const std::string_view path = uri->encoded_path();
    store_.append(path.empty() ? std::string_view("/") : path);
    if (uri->has_query()) {
        store_ += '?';
        store_.append(uri->encoded_query());
    }
    target_ =
        Span{static_cast<std::uint32_t>(start), static_cast<std::uint32_t>(store_.size() - start)};
}

bool RequestParser::folded(std::string_view name, std::string_view value) const noexcept {
    const char* name_end = name.data() + name.size();
    const char* input_end = input_.data() + input_.size();
    const char* at = value.data();
    if (at == nullptr || std::less<>{}(at, name_end) || std::less<>{}(input_end, at)) {
        return !value.empty();  // not in the input: Beast's buffer (an empty value is no fold)
    }
    return std::string_view(name_end, static_cast<std::size_t>(at - name_end)).find('\n') !=
           std::string_view::npos;
}

void RequestParser::on_field_impl(http::field field,
                                  boost::beast::string_view name,
                                  boost::beast::string_view value,
                                  error_code& ec) {
    if (is_header_done()) {
        // A trailer section after a chunked body. Discarded (RFC 9112 7.1.2 allows it):
        // trailers must not pass for headers, and appending to `store_` now would move the
        // bytes the request's views already point into.
        return;
    }
    if (folded(sv(name), sv(value))) {
        // Beast accepts obs-fold; RFC 9112 5.2 lets a server unfold it, but a proxy in front
        // may read the field differently: refuse (400).
        refusal_ = Refusal::folded_header;
        ec = http::error::bad_field;
        return;
    }
    switch (field) {
        case http::field::content_length:
            has_length_ = true;
            break;
        case http::field::transfer_encoding:
            // Only "chunked" alone is supported; a list of codings or a repeated field is a
            // coding we do not implement (RFC 9112 6.1: 501).
            if (has_coding_ || !iequals(trim_ows(sv(value)), "chunked")) {
                unsupported_coding_ = true;
            }
            has_coding_ = true;
            break;
        case http::field::host:
            ++hosts_;
            break;
        case http::field::expect:
            expects_continue_ = iequals(trim_ows(sv(value)), "100-continue");
            break;
        default:
            break;
    }
    fields_.emplace_back(append(sv(name)), append(sv(value)));
}

void RequestParser::on_header_impl(error_code& ec) {
    // RFC 9112 6.1: a message with both Content-Length and Transfer-Encoding may be a
    // smuggling attempt; 6.3: Transfer-Encoding in HTTP/1.0 means faulty framing.
    if (has_coding_ && (has_length_ || version_ < 11)) {
        refusal_ = Refusal::conflicting_framing;
        ec = http::error::bad_transfer_encoding;
        return;
    }
    if (unsupported_coding_) {
        refusal_ = Refusal::unsupported_coding;
        ec = http::error::bad_transfer_encoding;
        return;
    }
    // RFC 9112 3.2: an HTTP/1.1 request without Host, or any request with more than one
    // Host line, is a 400.
    if (hosts_ > 1 || (hosts_ == 0 && version_ >= 11)) {
        refusal_ = Refusal::bad_host;
        ec = http::error::bad_field;
        return;
    }
    // RFC 9110 10.1.1: a server ignores 100-continue from an HTTP/1.0 client.
    expects_continue_ = expects_continue_ && version_ >= 11;
    builder_.set_start(method_, view(method_name_), view(target_), version_);
    for (const auto& [name, value] : fields_) {
        builder_.add_header(view(name), view(value));
    }
    builder_.set_keep_alive(keep_alive());
}

void RequestParser::on_body_init_impl(const boost::optional<std::uint64_t>& length,
                                      error_code& ec) {
    if (length) {
        if (*length > body_limit_) {
            ec = http::error::body_limit;
            return;
        }
        // A streamed body (a route reading it chunk by chunk) is taken out as it arrives:
        // reserve no more than one read's worth for it.
        body_.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(*length, reserve_limit_)));
    }
}

std::size_t RequestParser::on_body_impl(boost::beast::string_view data, error_code& ec) {
    if (!within_limit(data.size())) {
        ec = http::error::body_limit;
        return 0;
    }
    body_.append(data.data(), data.size());
    return data.size();
}

std::size_t RequestParser::on_chunk_body_impl(std::uint64_t,
                                              boost::beast::string_view data,
                                              error_code& ec) {
    if (!within_limit(data.size())) {
        ec = http::error::body_limit;
        return 0;
    }
    body_.append(data.data(), data.size());
    return data.size();
}

void RequestParser::on_finish_impl(error_code&) {
    if (!streamed_) {
        builder_.set_body(body_);
    }
}

RequestStorage::Span RequestParser::append(std::string_view s) {
    const auto start = store_.size();
    store_.append(s);
    return Span{static_cast<std::uint32_t>(start), static_cast<std::uint32_t>(s.size())};
}

}  // namespace flamecpp::detail
