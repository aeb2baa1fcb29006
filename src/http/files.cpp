#include "http/files.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <clocale>
#include <ctime>
#include <memory>
#include <system_error>
#include <utility>

#include <fcntl.h>
#include <fmt/format.h>
#include <linux/openat2.h>
#include <locale.h>  // NOLINT(modernize-deprecated-headers): newlocale (POSIX, not in <clocale>)
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "http/writer.hpp"
#include "text/ascii.hpp"
#include "text/percent.hpp"

namespace flamecpp::detail {

FileBody::~FileBody() {
    if (fd >= 0) {
        ::close(fd);
    }
}

// --- Content types -----------------------------------------------------------------------

namespace {

struct TypeEntry {
    std::string_view extension;  // lower case, without the dot
    std::string_view type;
};

// Sorted by extension for a binary search.
constexpr std::array<TypeEntry, 34> content_types{{
    {"avif", "image/avif"},
    {"bin", "application/octet-stream"},
    {"css", "text/css; charset=utf-8"},
    {"csv", "text/csv; charset=utf-8"},
    {"gif", "image/gif"},
    {"gz", "application/gzip"},
    {"htm", "text/html; charset=utf-8"},
    {"html", "text/html; charset=utf-8"},
    {"ico", "image/vnd.microsoft.icon"},
    {"jpeg", "image/jpeg"},
    {"jpg", "image/jpeg"},
    {"js", "text/javascript; charset=utf-8"},
    {"json", "application/json"},
    {"map", "application/json"},
    {"md", "text/markdown; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"mp3", "audio/mpeg"},
    {"mp4", "video/mp4"},
    {"ogg", "audio/ogg"},
    {"otf", "font/otf"},
    {"pdf", "application/pdf"},
    {"png", "image/png"},
    {"svg", "image/svg+xml"},
    {"tar", "application/x-tar"},
    {"ttf", "font/ttf"},
    {"txt", "text/plain; charset=utf-8"},
    {"wasm", "application/wasm"},
    {"webm", "video/webm"},
    {"webmanifest", "application/manifest+json"},
    {"webp", "image/webp"},
    {"woff", "font/woff"},
    {"woff2", "font/woff2"},
    {"xml", "application/xml"},
    {"zip", "application/zip"},
}};

constexpr bool table_sorted() {
    for (std::size_t i = 1; i < content_types.size(); ++i) {
        if (!(content_types[i - 1].extension < content_types[i].extension)) {
            return false;
        }
    }
    return true;
}
static_assert(table_sorted(), "content_types must be sorted by extension");

/// An extension of up to 16 characters as two big-endian words, zero-padded: comparing the
/// words compares the text (no extension holds a NUL), without a memcmp call per probe.
struct PackedExtension {
    std::uint64_t high = 0;
    std::uint64_t low = 0;
    friend constexpr bool operator<(const PackedExtension& a, const PackedExtension& b) {
        return a.high != b.high ? a.high < b.high : a.low < b.low;
    }
    friend constexpr bool operator==(const PackedExtension&, const PackedExtension&) = default;
};

constexpr PackedExtension pack(std::string_view extension) noexcept {
    PackedExtension key;
    for (std::size_t i = 0; i < 16; ++i) {
        const std::uint64_t c = i < extension.size() ? static_cast<unsigned char>(extension[i]) : 0;
        (i < 8 ? key.high : key.low) |= c << (8 * (7 - i % 8));
    }
    return key;
}

constexpr auto packed_extensions = [] {
    std::array<PackedExtension, content_types.size()> out{};
    for (std::size_t i = 0; i < content_types.size(); ++i) {
        out[i] = pack(content_types[i].extension);
    }
    return out;
}();

}  // namespace

std::string_view content_type_for(std::string_view filename) noexcept {
    constexpr std::string_view fallback = "application/octet-stream";
    const auto slash = filename.rfind('/');
    if (slash != std::string_view::npos) {
        filename.remove_prefix(slash + 1);
    }
    const auto dot = filename.rfind('.');
    if (dot == std::string_view::npos || dot == 0 || filename.size() - dot - 1 > 16) {
        return fallback;
    }
    char lower[16];
    const auto ext = filename.substr(dot + 1);
    for (std::size_t i = 0; i < ext.size(); ++i) {
        lower[i] = ascii_lower(ext[i]);
    }
    const PackedExtension key = pack(std::string_view(lower, ext.size()));
    const auto* found = std::lower_bound(packed_extensions.begin(), packed_extensions.end(), key);
    return found != packed_extensions.end() && *found == key
               ? content_types[static_cast<std::size_t>(found - packed_extensions.begin())].type
               : fallback;
}

// --- Range -------------------------------------------------------------------------------

namespace {

/// Reads the digits at the front of `s` into `n`; false when there are none or too many.
bool take_number(std::string_view& s, std::uint64_t& n) noexcept {
    std::size_t digits = 0;
    while (digits < s.size() && s[digits] >= '0' && s[digits] <= '9') {
        ++digits;
    }
    if (digits == 0) {
        return false;
    }
    auto [end, ec] = std::from_chars(s.data(), s.data() + digits, n);
    if (ec != std::errc()) {
        return false;  // larger than any file
    }
    s.remove_prefix(digits);
    return true;
}

}  // namespace

ByteRange parse_range(std::string_view header, std::uint64_t size) noexcept {
    ByteRange none;
    header = trim_ows(header);
    // RFC 9110 14.1.1: ranges-specifier = range-unit "=" range-set; the unit is
    // case-insensitive.
    if (header.size() < 6 || !iequals(header.substr(0, 6), "bytes=")) {
        return none;
    }
    std::string_view set = header.substr(6);
    int count = 0;
    ByteRange result;
    bool satisfiable = false;
    // range-set = 1#range-spec: empty list elements are allowed and skipped (RFC 9110 5.6.1).
    while (!set.empty()) {
        const auto comma = set.find(',');
        std::string_view spec = trim_ows(set.substr(0, comma));
        set = comma == std::string_view::npos ? std::string_view{} : set.substr(comma + 1);
        if (spec.empty()) {
            continue;
        }
        ++count;
        std::uint64_t first = 0;
        std::uint64_t last = 0;
        if (spec.front() == '-') {
            // suffix-range = "-" suffix-length: the last N bytes.
            spec.remove_prefix(1);
            std::uint64_t suffix = 0;
            if (!take_number(spec, suffix) || !spec.empty()) {
                return none;
            }
            if (suffix == 0 || size == 0) {
                continue;  // valid, not satisfiable
            }
            first = suffix >= size ? 0 : size - suffix;
            last = size - 1;
        } else {
            // int-range = first-pos "-" [ last-pos ]
            if (!take_number(spec, first) || spec.empty() || spec.front() != '-') {
                return none;
            }
            spec.remove_prefix(1);
            if (spec.empty()) {
                last = size == 0 ? 0 : size - 1;
            } else if (!take_number(spec, last) || !spec.empty() || last < first) {
                return none;  // an invalid range-spec makes the whole header invalid
            }
            if (first >= size) {
                continue;  // valid, not satisfiable
            }
            if (last >= size) {
                last = size - 1;
            }
        }
        satisfiable = true;
        result.first = first;
        result.last = last;
    }
    if (count == 0) {
        return none;
    }
    if (!satisfiable) {
        ByteRange bad;
        bad.kind = ByteRange::Kind::unsatisfiable;
        return bad;
    }
    if (count > 1) {
        return none;  // several ranges: the whole representation (a 200 is always allowed)
    }
    result.kind = ByteRange::Kind::single;
    return result;
}

// --- Dates -------------------------------------------------------------------------------

namespace {

/// The "C" locale, for strptime_l: the day and month names must not follow the process's
/// locale.
locale_t c_locale() noexcept {
    static const locale_t locale = newlocale(LC_ALL_MASK, "C", locale_t(nullptr));
    return locale;
}

}  // namespace

std::optional<std::int64_t> parse_http_date(std::string_view text) noexcept {
    text = trim_ows(text);
    if (text.empty() || text.size() > 64) {
        return std::nullopt;
    }
    char buffer[65];
    text.copy(buffer, text.size());
    buffer[text.size()] = '\0';
    // IMF-fixdate, then the obsolete RFC 850 and asctime forms (RFC 9110 5.6.7).
    static constexpr const char* formats[] = {"%a, %d %b %Y %H:%M:%S GMT",
                                              "%A, %d-%b-%y %H:%M:%S GMT", "%a %b %e %H:%M:%S %Y"};
    const locale_t locale = c_locale();
    if (locale == locale_t(nullptr)) {
        return std::nullopt;
    }
    for (const char* format : formats) {
        std::tm tm{};
        const char* end = strptime_l(buffer, format, &tm, locale);
        if (end != nullptr && *end == '\0') {
            const std::time_t t = timegm(&tm);
            if (t == std::time_t(-1)) {
                return std::nullopt;
            }
            return static_cast<std::int64_t>(t);
        }
    }
    return std::nullopt;
}

// --- Entity tags -------------------------------------------------------------------------

namespace {

/// Takes one entity-tag (`"..."` or `W/"..."`) from the front of `s`; nothing when `s` does
/// not start with one. etagc allows ',', so the list is scanned, not split on commas.
std::optional<std::string_view> take_etag(std::string_view& s) noexcept {
    std::size_t start = 0;
    if (s.size() >= 2 && s[0] == 'W' && s[1] == '/') {
        start = 2;
    }
    if (s.size() <= start || s[start] != '"') {
        return std::nullopt;
    }
    const auto close = s.find('"', start + 1);
    if (close == std::string_view::npos) {
        return std::nullopt;
    }
    auto tag = s.substr(0, close + 1);
    s.remove_prefix(close + 1);
    return tag;
}

std::string_view opaque(std::string_view tag) noexcept {
    return tag.starts_with("W/") ? tag.substr(2) : tag;
}

}  // namespace

bool etag_list_matches(std::string_view list, std::string_view etag, bool weak) noexcept {
    list = trim_ows(list);
    if (list == "*") {
        return true;
    }
    if (etag.empty() || (!weak && etag.starts_with("W/"))) {
        return false;
    }
    while (!list.empty()) {
        list = trim_ows(list);
        if (!list.empty() && list.front() == ',') {
            list.remove_prefix(1);
            continue;
        }
        auto tag = take_etag(list);
        if (!tag) {
            return false;  // not a list of entity-tags
        }
        if (weak ? opaque(*tag) == opaque(etag) : *tag == etag) {
            return true;
        }
    }
    return false;
}

// --- The decision ------------------------------------------------------------------------

FileDecision decide_file_answer(const FileConditions& c,
                                std::string_view etag,
                                std::int64_t modified,
                                std::uint64_t size) noexcept {
    FileDecision d;
    using Kind = FileDecision::Kind;
    // 1. If-Match, else 2. If-Unmodified-Since.
    if (c.if_match) {
        if (!etag_list_matches(*c.if_match, etag, /*weak=*/false)) {
            d.kind = Kind::precondition_failed;
            return d;
        }
    } else if (c.if_unmodified_since) {
        if (auto date = parse_http_date(*c.if_unmodified_since); date && modified > *date) {
            d.kind = Kind::precondition_failed;
            return d;
        }
    }
    // 3. If-None-Match, else 4. If-Modified-Since (GET and HEAD only).
    if (c.if_none_match) {
        if (etag_list_matches(*c.if_none_match, etag, /*weak=*/true)) {
            d.kind = c.get_or_head ? Kind::not_modified : Kind::precondition_failed;
            return d;
        }
    } else if (c.if_modified_since && c.get_or_head) {
        if (auto date = parse_http_date(*c.if_modified_since); date && modified <= *date) {
            d.kind = Kind::not_modified;
            return d;
        }
    }
    // 5. Range, for GET (and HEAD, whose answer mirrors GET's), unless If-Range says the
    // client's copy is stale.
    if (!c.range || !c.get_or_head) {
        return d;
    }
    if (c.if_range) {
        const std::string_view v = trim_ows(*c.if_range);
        bool fresh = false;
        if (v.starts_with('"') || v.starts_with("W/")) {
            // The strong comparison: a weak tag never matches (RFC 9110 13.1.5).
            fresh = !v.starts_with("W/") && !etag.starts_with("W/") && v == etag;
        } else if (auto date = parse_http_date(v)) {
            fresh = *date == modified;
        }
        if (!fresh) {
            return d;
        }
    }
    const ByteRange range = parse_range(*c.range, size);
    if (range.kind == ByteRange::Kind::unsatisfiable) {
        d.kind = Kind::unsatisfiable;
    } else if (range.kind == ByteRange::Kind::single) {
        d.kind = Kind::partial;
        d.first = range.first;
        d.last = range.last;
    }
    return d;
}

void resolve_file_response(Response& response, const Request& request) {
    FileBody* body = FileAccess::unshare(response);
    if (body == nullptr || body->resolved) {
        return;
    }
    body->resolved = true;
    if (response.status() != Status::ok) {
        return;  // a 404 page served from a file: no conditions, no ranges
    }
    FileConditions c;
    c.get_or_head = request.method() == Method::get || request.method() == Method::head;
    c.if_match = request.header("If-Match");
    c.if_none_match = request.header("If-None-Match");
    c.if_modified_since = request.header("If-Modified-Since");
    c.if_unmodified_since = request.header("If-Unmodified-Since");
    c.if_range = request.header("If-Range");
    c.range = request.header("Range");
    const FileDecision d =
        decide_file_answer(c, response.header("ETag"), body->modified, body->size);
    using Kind = FileDecision::Kind;
    switch (d.kind) {
        case Kind::full:
            return;
        case Kind::partial:
            response.set_status(Status::partial_content);
            body->offset = d.first;
            body->length = d.last - d.first + 1;
            response.set_header("Content-Range",
                                fmt::format("bytes {}-{}/{}", d.first, d.last, body->size));
            return;
        case Kind::not_modified:
            // RFC 9110 15.4.5: the validators and caching fields the 200 would carry, no body.
            response.set_status(Status::not_modified);
            response.set_content_type("");
            response.remove_header("Accept-Ranges");
            response.remove_header("Content-Disposition");
            FileAccess::drop(response);
            return;
        case Kind::precondition_failed:
        case Kind::unsatisfiable: {
            // In place: the handler's other headers (a cookie) and background tasks stay.
            const bool unsatisfiable = d.kind == Kind::unsatisfiable;
            response.set_status(unsatisfiable ? Status::range_not_satisfiable
                                              : Status::precondition_failed);
            response.set_content_type("");
            response.remove_header("Content-Disposition");
            if (unsatisfiable) {
                response.set_header("Content-Range", fmt::format("bytes */{}", body->size));
            }
            FileAccess::drop(response);
            return;
        }
    }
}

namespace {

/// `Last-Modified` values of recent modification times, per thread: a site's files share a
/// few, and formatting a date costs about 2,000 instructions (fmt's chrono) against a few
/// dozen for a hit. Direct-mapped by second.
std::string last_modified(std::time_t t) {
    struct Entry {
        std::time_t second = -1;
        std::string text;
    };
    thread_local std::array<Entry, 64> cache;
    Entry& entry = cache[static_cast<std::size_t>(t) % cache.size()];
    if (entry.second != t) {
        entry.text = format_http_date(t);
        entry.second = t;
    }
    return entry.text;
}

/// `"<mtime in ns, hex>-<size, hex>"`.
std::string strong_etag(std::uint64_t nanos, std::uint64_t size) {
    char text[40];
    char* end = text;
    *end++ = '"';
    end = std::to_chars(end, text + sizeof text, nanos, 16).ptr;
    *end++ = '-';
    end = std::to_chars(end, text + sizeof text, size, 16).ptr;
    *end++ = '"';
    return std::string(text, end);
}

}  // namespace

Response make_file_response(int fd, std::string_view name, std::string_view content_type) {
    auto body = std::make_shared<FileBody>();
    body->fd = fd;
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        throw std::system_error(errno, std::generic_category(), "flamecpp: fstat");
    }
    body->size = static_cast<std::uint64_t>(st.st_size);
    body->modified = static_cast<std::int64_t>(st.st_mtim.tv_sec);
    body->length = body->size;
    Response r = Response::empty(Status::ok);
    r.headers().reserve(3);
    r.set_content_type(content_type.empty() ? content_type_for(name) : content_type);
    // Strong: the bytes change whenever the size or the modification time (in nanoseconds)
    // does, as far as a file system can tell.
    const auto nanos = static_cast<std::uint64_t>(st.st_mtim.tv_sec) * 1000000000u +
                       static_cast<std::uint64_t>(st.st_mtim.tv_nsec);
    r.with_header("ETag", strong_etag(nanos, body->size));
    r.with_header("Last-Modified", last_modified(static_cast<std::time_t>(body->modified)));
    r.with_header("Accept-Ranges", "bytes");
    FileAccess::attach(r, std::move(body));
    return r;
}

FileBody* FileAccess::body(Response& r) noexcept {
    return r.is_file() ? r.extras_->file.get() : nullptr;
}

void FileAccess::attach(Response& r, std::shared_ptr<FileBody> body) {
    r.own_extras().file = std::move(body);
}

void FileAccess::drop(Response& r) {
    if (r.is_file()) {
        r.own_extras().file.reset();
    }
}

FileBody* FileAccess::unshare(Response& r) {
    if (!r.is_file()) {
        return nullptr;
    }
    const std::shared_ptr<FileBody>& file = r.extras_->file;
    if (file->resolved || (r.extras_.use_count() == 1 && file.use_count() == 1)) {
        return file.get();
    }
    // A copy of a file answer (a handler returning one it keeps): its range is its own.
    // The descriptor is duplicated; reads at explicit offsets share no file position.
    auto copy = std::make_shared<FileBody>();
    copy->fd = ::fcntl(file->fd, F_DUPFD_CLOEXEC, 0);
    if (copy->fd < 0) {
        throw std::system_error(errno, std::generic_category(), "flamecpp: dup of a file answer");
    }
    copy->size = file->size;
    copy->modified = file->modified;
    copy->offset = file->offset;
    copy->length = file->length;
    auto& extras = r.own_extras();
    extras.file = std::move(copy);
    return extras.file.get();
}

std::shared_ptr<FileBody> FileAccess::share(const Response& r) noexcept {
    return r.is_file() ? r.extras_->file : nullptr;
}

Task<void> write_file_chunks(std::shared_ptr<FileBody> body, BodyWriter& out) {
    std::string chunk;
    std::uint64_t offset = body->offset;
    std::uint64_t left = body->length;
    while (left != 0) {
        chunk.resize(
            static_cast<std::size_t>(std::min<std::uint64_t>(left, std::uint64_t{64} * 1024)));
        const ssize_t n = ::pread(body->fd, chunk.data(), chunk.size(), static_cast<off_t>(offset));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            throw std::system_error(n < 0 ? errno : EIO, std::generic_category(),
                                    "flamecpp: the file shrank or failed while it was sent");
        }
        chunk.resize(static_cast<std::size_t>(n));
        offset += static_cast<std::uint64_t>(n);
        left -= static_cast<std::uint64_t>(n);
        co_await out.write(chunk);
    }
}

// --- Paths -------------------------------------------------------------------------------

std::optional<std::string> static_relative_path(std::string_view rest) {
    std::string out;
    if (rest.empty()) {
        return out;
    }
    std::string segment;
    std::size_t start = 0;
    for (;;) {
        const auto slash = rest.find('/', start);
        const std::string_view raw = rest.substr(
            start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
        if (raw.empty()) {
            // Only a trailing '/' may leave an empty segment: "a//b" and "/etc" are refused.
            if (slash == std::string_view::npos && start != 0) {
                out += '/';
                return out;
            }
            return std::nullopt;
        }
        segment.clear();
        if (!percent_decode_append(raw, segment)) {
            return std::nullopt;
        }
        if (segment == "." || segment == ".." ||
            segment.find_first_of(std::string_view("/\\\0", 3)) != std::string::npos) {
            return std::nullopt;
        }
        if (!out.empty()) {
            out += '/';
        }
        out += segment;
        if (slash == std::string_view::npos) {
            return out;
        }
        start = slash + 1;
    }
}

namespace {

bool use_fallback = false;

constexpr int open_flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY;

/// One component at a time, each opened with O_NOFOLLOW below the last: no symlink is
/// followed, so nothing leaves the root.
int open_by_components(int root_fd, const std::string& relative) {
    std::string_view rest = relative;
    // "dir/": the last component must be a directory, as the kernel's own walk would insist.
    const int must_be_dir = rest.ends_with('/') ? O_DIRECTORY : 0;
    if (!rest.empty() && rest.back() == '/') {
        rest.remove_suffix(1);
    }
    if (rest.empty()) {
        return ::openat(root_fd, ".", open_flags | O_DIRECTORY);
    }
    int dir = root_fd;
    std::string name;
    for (;;) {
        const auto slash = rest.find('/');
        name.assign(rest.substr(0, slash));
        const bool last = slash == std::string_view::npos;
        if (name.empty() || name == "." || name == "..") {
            // An absolute path or a step up: what RESOLVE_BENEATH refuses with EXDEV.
            if (dir != root_fd) {
                ::close(dir);
            }
            errno = EXDEV;
            return -1;
        }
        const int fd = ::openat(dir, name.c_str(),
                                last ? open_flags | O_NOFOLLOW | must_be_dir
                                     : O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        const int saved = errno;
        if (dir != root_fd) {
            ::close(dir);
        }
        if (fd < 0 || last) {
            errno = saved;
            return fd;
        }
        dir = fd;
        rest.remove_prefix(slash + 1);
    }
}

}  // namespace

void force_open_beneath_fallback(bool on) noexcept { use_fallback = on; }

int open_beneath(int root_fd, const std::string& relative) {
    if (!use_fallback) {
        open_how how{};
        how.flags = open_flags;
        // RESOLVE_BENEATH refuses "..", absolute paths and symlinks that lead out of the root,
        // at every step of the walk, atomically; RESOLVE_NO_MAGICLINKS refuses /proc links.
        how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
        const char* path = relative.empty() ? "." : relative.c_str();
        const long fd = ::syscall(SYS_openat2, root_fd, path, &how, sizeof(how));
        if (fd >= 0 || (errno != ENOSYS && errno != EPERM)) {
            return static_cast<int>(fd);
        }
        // No openat2 (a kernel before 5.6, or a seccomp filter that refuses it).
    }
    return open_by_components(root_fd, relative);
}

}  // namespace flamecpp::detail
