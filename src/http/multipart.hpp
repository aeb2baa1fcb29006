#pragma once

// An incremental multipart/form-data parser (RFC 7578 over RFC 2046 5.1): fed the body as it
// arrives, in pieces of any size, it reports each part's headers and then its bytes, without
// holding more than one delimiter's length of the body and one part's header section. Strict:
// a delimiter must be followed by "--" or a line end, every part needs a header section with a
// `Content-Disposition: form-data; name=...`, header lines end in CRLF and are never folded,
// and a body that ends before the closing delimiter is malformed. Used by the form reader
// (src/forms.cpp); test/unit/multipart_test.cpp and fuzz/multipart.cpp feed it bytes.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace flamecpp::detail {

/// The headers of one part that a form needs.
struct MultipartPart {
    std::string name;                     ///< Content-Disposition's `name`
    std::optional<std::string> filename;  ///< `filename*` (RFC 8187) or `filename`, as sent
    std::string content_type;             ///< as sent; "text/plain" when absent (7578 4.4)
};

/// Receives the parser's events. A member may throw to stop the parse (a part over a limit):
/// the exception leaves feed() as it is.
class MultipartSink {
public:
    virtual void begin_part(MultipartPart& part) = 0;
    virtual void part_data(std::string_view bytes) = 0;
    virtual void end_part() = 0;

protected:
    ~MultipartSink() = default;
};

/// The `boundary` parameter of a `multipart/form-data` Content-Type: 1 to 70 of RFC 2046's
/// bchars, not ending in a space, quoted or not. Empty when it is missing or malformed.
std::string multipart_boundary(std::string_view content_type);

class MultipartParser {
public:
    /// Most bytes a part's header section may take.
    static constexpr std::size_t max_header_bytes = std::size_t{8} * 1024;

    /// `boundary` as multipart_boundary() gives it (not empty).
    explicit MultipartParser(std::string_view boundary);

    /// Parses the next bytes of the body. False when they make it malformed: error() says
    /// why, and the parser takes nothing more.
    bool feed(std::string_view bytes, MultipartSink& sink);
    /// The body has ended: false (and error()) unless its closing delimiter was read.
    bool finish();
    /// Why the body is malformed.
    std::string_view error() const noexcept { return error_; }
    /// The closing delimiter has been read (what follows is the epilogue, ignored).
    bool complete() const noexcept { return state_ == State::epilogue; }

private:
    enum class State { preamble, after_delimiter, headers, body, epilogue, failed };

    bool fail(std::string_view why);
    /// One header line of the part being read (without its CRLF).
    bool header_line(std::string_view line);

    std::string delimiter_;  ///< CRLF "--" boundary
    std::string buffer_;     ///< bytes read and not yet used
    std::string headers_;    ///< the header section of the part being read, so far
    MultipartPart part_;
    bool has_disposition_ = false;
    State state_ = State::preamble;
    std::string error_;
};

}  // namespace flamecpp::detail
