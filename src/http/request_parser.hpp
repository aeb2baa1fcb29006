#pragma once

// Parsing one HTTP/1.1 request from bytes into a Request, without sockets: Beast's
// basic_parser underneath, with the rules of RFC 9112/9110 the contract needs and Beast 1.81
// lacks (framing, obs-fold, Host, absolute-form targets), the header size counted across
// reads, and the one mapping from a parse failure to a status. The HTTP session feeds it
// what it reads (src/server/http_session.cpp); test/unit/request_parser_test.cpp feeds it
// strings.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>

#include <flamecpp/limits.hpp>
#include <flamecpp/request.hpp>
#include <flamecpp/status.hpp>

#include "http/request_builder.hpp"

namespace flamecpp::detail {

/// Why a request was refused by our own checks, beyond what Beast reports.
enum class Refusal : std::uint8_t {
    none,
    conflicting_framing,  ///< Content-Length with Transfer-Encoding, or TE in HTTP/1.0: 400
    unsupported_coding,   ///< a Transfer-Encoding other than `chunked` alone: 501
    folded_header,        ///< obs-fold, or whitespace before the first field: 400
    bad_host,             ///< HTTP/1.1 without Host, or more than one Host line: 400
    bad_target,           ///< a request target in no form we accept: 400
};

/// Storage reused by every request of a connection, so a warmed-up one does not allocate.
struct RequestStorage {
    /// Where a copied string sits in `store`: views are made only once the header is
    /// complete, since the store may grow (and move) while fields arrive.
    struct Span {
        std::uint32_t offset;
        std::uint32_t size;
    };
    std::string store;  ///< method, target, field names and values, back to back
    std::vector<std::pair<Span, Span>> fields;
    std::string body;
};

/// Parses one request into a Request, copying header bytes into `storage.store` and the body
/// into `storage.body`. Make one per request.
class RequestParser final : public boost::beast::http::basic_parser<true> {
public:
    RequestParser(Request& request, RequestStorage& storage, const Limits& limits);

    /// Feeds `bytes` (what the connection holds, the start of this request first) and returns
    /// how many were used; the caller drops those. `ec`: `http::error::need_more` for more
    /// bytes, another error once the request is refused (see status()), or none when the
    /// request is complete (is_done()) or the rest of `bytes` belongs to a later one.
    std::size_t feed(std::string_view bytes, boost::system::error_code& ec);

    /// The answer to a refused request: 431, 413, 501 or 400.
    Status status(const boost::system::error_code& ec) const noexcept;

    Refusal refusal() const noexcept { return refusal_; }
    /// The method, target and version of the request line once it has been read, else empty
    /// and 0: the access log names a request refused after its first line (a 413, a 431).
    std::string_view line_method() const noexcept { return view(method_name_); }
    std::string_view line_target() const noexcept { return view(target_); }
    unsigned line_version() const noexcept { return target_.size != 0 ? version_ : 0; }
    /// An HTTP/1.1 request asked `Expect: 100-continue` (RFC 9110 10.1.1).
    bool expects_continue() const noexcept { return expects_continue_; }

    /// The largest body this request may have. The app's limit until the header is done; the
    /// session may then set its route's (before any body byte is fed). A declared length over
    /// it, or a body growing past it, stops the parse with `http::error::body_limit` (413).
    void set_body_limit(std::uint64_t limit) noexcept { body_limit_ = limit; }
    std::uint64_t max_body() const noexcept { return body_limit_; }
    /// Body bytes parsed so far (de-chunked).
    std::uint64_t body_received() const noexcept { return body_received_; }
    /// The body is taken out as it arrives (a streamed route): reserve little for it.
    /// Request::body() then stays empty.
    void set_streamed() noexcept {
        reserve_limit_ = std::uint64_t{64} * 1024;
        streamed_ = true;
    }
    /// The header is complete and a body follows (Content-Length > 0 or chunked).
    bool body_follows() const noexcept { return is_header_done() && !is_done(); }

private:
    using error_code = boost::system::error_code;
    using Span = RequestStorage::Span;

    void on_request_impl(boost::beast::http::verb method,
                         boost::beast::string_view method_str,
                         boost::beast::string_view target,
                         int version,
                         error_code& ec) override;
    void on_response_impl(int, boost::beast::string_view, int, error_code&) override {}
    void on_field_impl(boost::beast::http::field field,
                       boost::beast::string_view name,
                       boost::beast::string_view value,
                       error_code& ec) override;
    void on_header_impl(error_code& ec) override;
    void on_body_init_impl(const boost::optional<std::uint64_t>& length, error_code& ec) override;
    std::size_t on_body_impl(boost::beast::string_view data, error_code& ec) override;
    void on_chunk_header_impl(std::uint64_t size,
                              boost::beast::string_view,
                              error_code& ec) override {
        if (size > body_limit_ - std::min(body_limit_, body_received_)) {
            ec = boost::beast::http::error::body_limit;  // refused before its bytes arrive
        }
    }
    std::size_t on_chunk_body_impl(std::uint64_t,
                                   boost::beast::string_view data,
                                   error_code& ec) override;
    void on_finish_impl(error_code& ec) override;

    Span append(std::string_view s);
    std::string_view view(Span s) const noexcept {
        return std::string_view(store_).substr(s.offset, s.size);
    }
    /// True when Beast unfolded an obs-fold (RFC 9112 5.2) into `value`: the value then sits
    /// in Beast's own buffer, or (after an empty first line) past a line break after its
    /// name. (Whitespace before the first field, 2.2, Beast refuses itself: a bad field name.)
    bool folded(std::string_view name, std::string_view value) const noexcept;
    /// Counts `n` more body bytes against the limit.
    bool within_limit(std::size_t n) noexcept {
        body_received_ += n;
        return body_received_ <= body_limit_;
    }

    RequestBuilder builder_;
    std::string& store_;
    std::vector<std::pair<Span, Span>>& fields_;
    std::string& body_;
    std::size_t max_header_bytes_;
    std::size_t header_bytes_ = 0;  ///< header bytes used so far, over every feed()
    std::uint64_t body_limit_;
    std::uint64_t body_received_ = 0;
    /// What a declared length reserves at most: a client that declares a large body and
    /// sends nothing does not get the memory set aside.
    std::uint64_t reserve_limit_ = std::uint64_t{1024} * 1024;
    Method method_ = Method::get;
    unsigned version_ = 11;
    Span method_name_{};
    Span target_{};
    unsigned hosts_ = 0;
    bool has_length_ = false;
    bool has_coding_ = false;
    bool unsupported_coding_ = false;
    bool expects_continue_ = false;
    bool streamed_ = false;
    std::string_view input_;  ///< what feed() is parsing: field names and values point in it
    Refusal refusal_ = Refusal::none;
};

/// Beast's `need_more`, made once: comparing with it builds no error_code per call.
inline const boost::system::error_code need_more_code = boost::beast::http::error::need_more;

/// `ec` is `need_more`.
inline bool is_need_more(const boost::system::error_code& ec) noexcept {
    return ec.value() == need_more_code.value() && ec.category() == need_more_code.category();
}

// Inline: they run for every request, inside the session's read loop (measured: a call each
// cost about 40 instructions per request out of line).

inline RequestParser::RequestParser(Request& request, RequestStorage& storage, const Limits& limits)
    : builder_(request),
      store_(storage.store),
      fields_(storage.fields),
      body_(storage.body),
      max_header_bytes_(limits.max_header_bytes),
      body_limit_(limits.max_body_bytes) {
    header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
    // Ours, not Beast's: Beast checks a declared length while the header is parsed, before
    // the route (and so its limit) is known.
    body_limit(boost::none);
    builder_.reset();
    store_.clear();
    fields_.clear();
    if (body_.capacity() > std::size_t{1024} * 1024) {
        std::string().swap(body_);  // a large body's buffer is not kept for the next request
    } else {
        body_.clear();
    }
}

inline std::size_t RequestParser::feed(std::string_view bytes, error_code& ec) {
    const bool in_header = !is_header_done();
    input_ = bytes;
    const std::size_t used = put(boost::asio::buffer(bytes.data(), bytes.size()), ec);
    if (in_header) {
        // Beast applies header_limit to what one put() leaves unconsumed, and fields completed
        // by earlier calls are consumed: a header arriving over several reads could grow
        // without bound. Count across calls.
        header_bytes_ += used;
        if (header_bytes_ > max_header_bytes_ ||
            (is_need_more(ec) && header_bytes_ + (bytes.size() - used) > max_header_bytes_)) {
            ec = boost::beast::http::error::header_limit;
        }
    }
    return used;
}

}  // namespace flamecpp::detail
