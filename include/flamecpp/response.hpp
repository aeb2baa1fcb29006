#pragma once

/// @file
/// The response a handler returns: a plain value.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <flamecpp/status.hpp>
#include <flamecpp/task.hpp>

namespace boost::json {
class value;
}

namespace flamecpp {

namespace detail {
struct FileBody;
struct FileAccess;

/// How Response::json takes a value other than a boost::json::value: <flamecpp/body.hpp>
/// enables described structs, enums, and vectors and maps of JSON-able values.
template <class T>
struct JsonValueOf {
    static constexpr bool available = false;
};

/// What few responses carry, behind one pointer. Response's size is in the coroutine frames
/// of every request: 16 bytes more measured 8% more instructions per plaintext request (a
/// frame past Asio's recycling size).
struct ResponseExtras {
    std::shared_ptr<std::vector<Task<void>>> background;
    std::shared_ptr<FileBody> file;
};
}  // namespace detail

/// Where a streamed response writes its body; each `write` goes out as one chunk.
class BodyWriter {
public:
    /// Virtual: the server implements the writer a stream receives (and middleware such as
    /// GZip wrap it).
    virtual ~BodyWriter() = default;
    /// Sends `data` to the client as one chunk of the body (empty data sends nothing).
    virtual Task<void> write(std::string_view data) = 0;
};

/// Produces a streamed body. Use a named coroutine function (bind arguments with
/// `std::bind_front`): coroutine lambdas with captures are unsafe on GCC 12.
using BodyStream = std::function<Task<void>(BodyWriter&)>;

/// The SameSite attribute of a cookie (RFC 6265bis): `unset` leaves it out.
enum class SameSite : unsigned char {
    unset,   ///< no SameSite attribute: the browser's default applies
    lax,     ///< `SameSite=Lax`: sent on this site's requests and on top-level GET
             ///< navigations from other sites
    strict,  ///< `SameSite=Strict`: sent only on requests from this site
    none     ///< `SameSite=None`: sent on every request; the cookie gets `Secure` too, as
             ///< browsers require
};

/// The attributes of a cookie set with Response::set_cookie. The defaults are Starlette's:
/// the whole site (`Path=/`), SameSite=Lax, a session cookie (no Max-Age).
struct CookieOptions {
    std::string path = "/";               ///< the paths the cookie is sent to; empty: no Path
    std::string domain;                   ///< empty: the host that answered only
    std::optional<std::int64_t> max_age;  ///< seconds; 0 or less deletes the cookie
    bool secure = false;                  ///< only sent over HTTPS
    bool http_only = false;               ///< hidden from JavaScript
    SameSite same_site = SameSite::lax;   ///< the SameSite attribute
};

/// How Response::file presents a file.
struct FileOptions {
    /// The Content-Type; empty: from the file name's extension (the table StaticFiles uses).
    std::string content_type;
    /// Not empty: the browser saves the answer under this name (`Content-Disposition:
    /// attachment`, with an RFC 8187 `filename*` for names beyond ASCII).
    std::string download_name;
};

/// An HTTP response: status, headers and a body, a plain value that handlers return and
/// middleware change. The body is a string, a stream (Response::stream) or a file
/// (Response::file).
///
/// @code
/// return flamecpp::Response::text("created", flamecpp::Status::created)
///     .with_header("Location", "/items/1");
/// @endcode
class Response {
public:
    /// 200 with an empty body and no Content-Type.
    Response() = default;
    /// `status` with `body` and the Content-Type `content_type` (empty: none).
    Response(Status status, std::string body, std::string_view content_type);

    /// `text/plain; charset=utf-8`.
    static Response text(std::string body, Status status = Status::ok);
    /// `text/html; charset=utf-8`.
    static Response html(std::string body, Status status = Status::ok);
    /// `application/json`, serialized by Boost.JSON (include <flamecpp/json.hpp> to build values).
    static Response json(const boost::json::value& value, Status status = Status::ok);
    /// `application/json` of a described struct, or a std::vector or std::map<std::string, U>
    /// of JSON-able values, through Boost.JSON's value_from (include <flamecpp/body.hpp>).
    template <class T>
    requires detail::JsonValueOf<T>::available static Response json(const T& value,
                                                                    Status status = Status::ok) {
        return json(detail::JsonValueOf<T>::from(value), status);
    }
    /// A redirect to `location` (307 by default, as Starlette's RedirectResponse).
    static Response redirect(std::string location, Status status = Status::temporary_redirect);
    /// A body produced while it is sent, with chunked transfer encoding.
    static Response stream(BodyStream body,
                           std::string_view content_type = "application/octet-stream",
                           Status status = Status::ok);
    /// A response with no body.
    static Response empty(Status status = Status::no_content);
    /// The bytes of the regular file at `path`, sent without copying through user space
    /// (sendfile(2)) and in constant memory whatever its size. The answer carries `ETag`,
    /// `Last-Modified` and `Accept-Ranges: bytes`, and the server answers the request's
    /// conditional and `Range` headers from them before middleware sees it: 304, 412,
    /// 206 with one range, 416. The file is opened here: a path that is missing, not a
    /// regular file or unreadable throws HTTPException(404).
    ///
    /// @code
    /// return flamecpp::Response::file("/srv/reports/2026.pdf", {.download_name = "report.pdf"});
    /// @endcode
    static Response file(std::string_view path, const FileOptions& options = {});

    /// The status.
    Status status() const noexcept { return status_; }
    /// Changes the status.
    void set_status(Status status) noexcept { status_ = status; }
    /// The body (empty for a stream or a file answer).
    const std::string& body() const noexcept { return body_; }
    /// The body, to change it.
    std::string& body() noexcept { return body_; }
    /// The Content-Type sent; empty: none.
    std::string_view content_type() const noexcept {
        return static_type_ != nullptr ? std::string_view(static_type_) : custom_type_;
    }
    /// Changes the Content-Type (empty: none). It must not hold CR, LF or NUL: such an answer
    /// cannot be written.
    void set_content_type(std::string_view type) {
        custom_type_ = type;
        static_type_ = nullptr;
    }
    /// Extra header fields, in the order they are sent. `Server`, `Date`, `Content-Length`,
    /// `Content-Type` and `Transfer-Encoding` are set by the server, not here.
    const std::vector<std::pair<std::string, std::string>>& headers() const noexcept {
        return headers_;
    }
    /// The same, to change or remove fields (middleware does).
    std::vector<std::pair<std::string, std::string>>& headers() noexcept { return headers_; }
    /// Adds a header field (fields may repeat, as `Set-Cookie` does).
    Response& with_header(std::string name, std::string value) &;
    /// Adds a header field to a temporary (`Response::text("hi").with_header(...)`), which it
    /// returns for more calls or a `return`.
    Response&& with_header(std::string name, std::string value) &&;
    /// The first extra header named `name` (case-insensitive), or empty.
    std::string_view header(std::string_view name) const noexcept;
    /// Replaces every field named `name` (case-insensitive) with one field `name: value`.
    Response& set_header(std::string name, std::string value);
    /// Removes every field named `name`; returns how many there were.
    std::size_t remove_header(std::string_view name) noexcept;
    /// Adds `field` to the `Vary` header, unless it is listed already (or Vary is `*`).
    Response& vary(std::string_view field);

    /// Adds a Set-Cookie header. The name must be an RFC 9110 token and the value cookie-octets
    /// (RFC 6265 4.1.1: printable ASCII without space, '"', ',', ';' and '\\'; encode anything
    /// else, e.g. as base64url); otherwise it throws std::invalid_argument, which the server
    /// answers with a 500 like any handler error.
    ///
    /// @code
    /// return Response::text("hi").set_cookie("session", token, {.http_only = true});
    /// @endcode
    Response& set_cookie(std::string_view name,
                         std::string_view value,
                         const CookieOptions& options = {}) &;
    /// Adds a Set-Cookie header to a temporary, as the other overload; returns it.
    Response&& set_cookie(std::string_view name,
                          std::string_view value,
                          const CookieOptions& options = {}) &&;
    /// Tells the client to forget the cookie: an empty value with Max-Age=0. Path and Domain
    /// must match the ones it was set with.
    Response& delete_cookie(std::string_view name, const CookieOptions& options = {}) &;
    /// Tells the client to forget the cookie, on a temporary; returns it.
    Response&& delete_cookie(std::string_view name, const CookieOptions& options = {}) &&;
    /// True for a streamed answer (Response::stream, set_stream).
    bool is_stream() const noexcept { return static_cast<bool>(stream_); }
    /// True for an answer that sends a file (Response::file, StaticFiles).
    bool is_file() const noexcept { return extras_ != nullptr && extras_->file != nullptr; }
    /// How many bytes of its file a file answer sends (all of it, or its range).
    std::uint64_t file_length() const noexcept;
    /// The producer of a streamed body (empty unless is_stream()).
    const BodyStream& stream_body() const noexcept { return stream_; }
    /// Attaches a background task: it starts once this response has been written (or its
    /// write failed), does not hold up the connection's next request, is logged if it throws,
    /// and the graceful shutdown waits for it (within the grace period) instead of cancelling
    /// it. Tasks attached to one response start in the order they were attached. Pass the
    /// task a coroutine function made, its arguments copied into it:
    /// `response.background(send_welcome_mail(address))`.
    Response& background(Task<void> task) &;
    /// Attaches a background task to a temporary, as the other overload; returns it.
    Response&& background(Task<void> task) &&;
    /// The background tasks attached, taken by the server when it has written the response.
    std::vector<Task<void>> take_background() noexcept;
    /// True when background tasks are attached.
    bool has_background() const noexcept {
        return extras_ != nullptr && extras_->background != nullptr;
    }

    /// Makes the body a stream (chunked), in place of any body the response had; status and
    /// headers stay. Middleware uses it to wrap a stream (GZip compresses chunk by chunk).
    void set_stream(BodyStream body) {
        body_.clear();
        if (is_file()) {
            own_extras().file.reset();
        }
        stream_ = std::move(body);
    }

private:
    // Hidden from Doxygen: 1.9.4 would link the page's "Classes" summary to this private
    // struct, which it does not list.
    /// @cond INTERNAL
    struct StaticType {
        const char* name;  // a string literal, or nullptr for no Content-Type
    };
    /// @endcond
    Response(Status status, std::string body, StaticType type) noexcept
        : status_(status), static_type_(type.name), body_(std::move(body)) {}

    Status status_ = Status::ok;
    const char* static_type_ = nullptr;  // the built-in types need no allocation
    std::string custom_type_;
    std::string body_;
    std::vector<std::pair<std::string, std::string>> headers_;
    BodyStream stream_;
    /// Background tasks and a file body: rare, so one pointer when unused. Copies share it
    /// until one changes it (own_extras()).
    std::shared_ptr<detail::ResponseExtras> extras_;
    detail::ResponseExtras& own_extras();
    friend struct detail::FileAccess;
};

}  // namespace flamecpp
