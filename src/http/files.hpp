#pragma once

// File responses: the one implementation behind Response::file and StaticFiles. A file
// response holds an open file; before it is written the server resolves it against the
// request's conditional and Range headers (RFC 9110 13 and 14), and the session sends its
// bytes with sendfile(2). The parsers here are pure functions, unit tested and fuzzed.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <flamecpp/request.hpp>
#include <flamecpp/response.hpp>

namespace flamecpp::detail {

/// The file behind a file response and the part of it the answer sends.
struct FileBody {
    FileBody() = default;
    FileBody(const FileBody&) = delete;
    FileBody& operator=(const FileBody&) = delete;
    ~FileBody();

    int fd = -1;
    std::uint64_t size = 0;     ///< of the whole file
    std::int64_t modified = 0;  ///< mtime, seconds since the epoch
    std::uint64_t offset = 0;   ///< the first byte sent
    std::uint64_t length = 0;   ///< how many bytes are sent
    bool resolved = false;      ///< the request's conditions were applied
};

/// What Response keeps private and the server needs.
struct FileAccess {
    static FileBody* body(Response& r) noexcept;
    static void attach(Response& r, std::shared_ptr<FileBody> body);
    static void drop(Response& r);  ///< the answer sends no file (304, 412, 416)
    static std::shared_ptr<FileBody> share(const Response& r) noexcept;
    /// The body, made this answer's own first if copies of the answer share it.
    static FileBody* unshare(Response& r);
};

/// Writes the part of the file a file answer sends to `out`, 64 KiB at a time (GZip
/// compresses a file this way; a transport without sendfile sends it this way).
Task<void> write_file_chunks(std::shared_ptr<FileBody> body, BodyWriter& out);

/// The Content-Type for `filename` from its extension, from one table (text types with
/// `; charset=utf-8`); `application/octet-stream` for an unknown one.
std::string_view content_type_for(std::string_view filename) noexcept;

/// A `Range` header (RFC 9110 14.2) read against a representation of `size` bytes.
struct ByteRange {
    enum class Kind : unsigned char {
        ignore,         ///< absent, malformed, another unit, or several ranges: send it all
        single,         ///< one satisfiable range: [first, last]
        unsatisfiable,  ///< 416
    };
    Kind kind = Kind::ignore;
    std::uint64_t first = 0;
    std::uint64_t last = 0;
};
ByteRange parse_range(std::string_view header, std::uint64_t size) noexcept;

/// An HTTP-date (RFC 9110 5.6.7: IMF-fixdate and the two obsolete forms) as seconds since the
/// epoch, or nothing when it does not parse.
std::optional<std::int64_t> parse_http_date(std::string_view text) noexcept;

/// True when the entity-tag list `list` (If-None-Match, If-Match) holds `etag` or is `*`.
/// `weak`: the weak comparison (W/ ignored on both sides), else the strong one (a weak tag
/// never matches).
bool etag_list_matches(std::string_view list, std::string_view etag, bool weak) noexcept;

/// The request headers that decide a file answer.
struct FileConditions {
    bool get_or_head = true;
    std::optional<std::string_view> if_match;
    std::optional<std::string_view> if_none_match;
    std::optional<std::string_view> if_modified_since;
    std::optional<std::string_view> if_unmodified_since;
    std::optional<std::string_view> if_range;
    std::optional<std::string_view> range;
};

/// The answer for a file with validators `etag`, `modified` and `size` under `conditions`,
/// in RFC 9110 13.2.2's order: If-Match, If-Unmodified-Since, If-None-Match,
/// If-Modified-Since, then Range (with If-Range).
struct FileDecision {
    enum class Kind : unsigned char {
        full,
        not_modified,
        precondition_failed,
        partial,
        unsatisfiable
    };
    Kind kind = Kind::full;
    std::uint64_t first = 0;
    std::uint64_t last = 0;
};
FileDecision decide_file_answer(const FileConditions& conditions,
                                std::string_view etag,
                                std::int64_t modified,
                                std::uint64_t size) noexcept;

/// Applies the request's conditions to a file response, once: 304, 412, 416, 206 or 200.
void resolve_file_response(Response& response, const Request& request);

/// A file response for the open regular file `fd` (owned from here on), with `content_type`
/// or, when empty, the type of `name`'s extension.
Response make_file_response(int fd, std::string_view name, std::string_view content_type);

/// The path below a static root that the raw (percent-encoded) `rest` of a request path
/// names, as decoded segments joined with '/', or nothing when it would leave the root or is
/// not a plain name: an empty or `.` or `..` segment, a bad escape, an encoded '/', a
/// backslash or NUL anywhere. A trailing '/' is kept (a directory). An empty `rest` is the
/// root itself: an empty path.
std::optional<std::string> static_relative_path(std::string_view rest);

/// Opens `relative` (from static_relative_path; empty: the root) below the directory
/// `root_fd` without leaving it, symlinks included: openat2(RESOLVE_BENEATH) where the kernel
/// has it, else one component at a time with O_NOFOLLOW (no symlinks then). Returns the open
/// descriptor (read-only, non-blocking, close-on-exec) or -1 with errno set.
int open_beneath(int root_fd, const std::string& relative);

/// For tests: make open_beneath use its fallback, as on a kernel without openat2.
void force_open_beneath_fallback(bool on) noexcept;

}  // namespace flamecpp::detail
