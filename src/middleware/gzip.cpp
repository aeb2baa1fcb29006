#include <charconv>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

#include <zlib.h>

#include <flamecpp/builtin_middleware.hpp>

#include "http/files.hpp"
#include "text/ascii.hpp"

namespace flamecpp {

namespace {

/// A deflate stream writing the gzip format (RFC 1952), ended with the object.
class Deflater {
public:
    explicit Deflater(int level) {
        // 15 + 16: the largest window, with a gzip header and trailer instead of zlib's.
        if (deflateInit2(&z_, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
            throw std::runtime_error("flamecpp: GZip: deflateInit2 failed");
        }
    }
    ~Deflater() { deflateEnd(&z_); }
    Deflater(const Deflater&) = delete;
    Deflater& operator=(const Deflater&) = delete;

    /// Compresses `in` and appends what zlib gives out to `out`: with Z_SYNC_FLUSH everything
    /// so far (a chunk the client can inflate at once), with Z_FINISH the end of the member.
    void run(std::string_view in, int flush, std::string& out) {
        z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
        z_.avail_in = static_cast<uInt>(in.size());
        for (;;) {
            const std::size_t room = deflateBound(&z_, z_.avail_in) + 64;
            const std::size_t used = out.size();
            out.resize(used + room);
            z_.next_out = reinterpret_cast<Bytef*>(out.data() + used);
            z_.avail_out = static_cast<uInt>(room);
            const int rc = deflate(&z_, flush);
            out.resize(used + room - z_.avail_out);
            if (rc == Z_STREAM_ERROR) {
                throw std::runtime_error("flamecpp: GZip: deflate failed");
            }
            // Room left over: zlib has consumed the input and flushed all it was asked to.
            if (rc == Z_STREAM_END || z_.avail_out != 0) {
                return;
            }
        }
    }

private:
    z_stream z_{};
};

/// The BodyWriter a wrapped stream writes to: each chunk compressed and flushed on its way
/// to the real writer.
class GzipWriter final : public BodyWriter {
public:
    GzipWriter(BodyWriter& out, int level) : out_(out), deflater_(level) {}

    Task<void> write(std::string_view data) override {
        if (data.empty()) {
            co_return;
        }
        buffer_.clear();
        deflater_.run(data, Z_SYNC_FLUSH, buffer_);
        co_await out_.write(buffer_);
    }

    Task<void> finish() {
        buffer_.clear();
        deflater_.run({}, Z_FINISH, buffer_);
        co_await out_.write(buffer_);
    }

private:
    BodyWriter& out_;
    Deflater deflater_;
    std::string buffer_;
};

Task<void> gzip_stream(BodyStream inner, int level, BodyWriter& out) {
    GzipWriter writer(out, level);
    co_await inner(writer);
    co_await writer.finish();
}

/// The q-value of one Accept-Encoding item's parameters (`;q=0.5`); 1 without one.
double quality(std::string_view params) noexcept {
    while (!params.empty()) {
        auto semi = params.find(';');
        std::string_view param = detail::trim_ows(params.substr(0, semi));
        if (param.size() > 2 && detail::ascii_lower(param[0]) == 'q' && param[1] == '=') {
            double q = 0;
            const auto value = param.substr(2);
            auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), q);
            return ec == std::errc() && end == value.data() + value.size() ? q : 0.0;
        }
        params = semi == std::string_view::npos ? std::string_view{} : params.substr(semi + 1);
    }
    return 1.0;
}

bool is_compressed_status(Status status) noexcept {
    const auto code = static_cast<unsigned>(status);
    return code >= 200 && status != Status::no_content && status != Status::partial_content &&
           status != Status::not_modified;
}

}  // namespace

GZip::GZip(GZipOptions options) : options_(options) {
    if (options_.level < 1 || options_.level > 9) {
        throw std::invalid_argument("flamecpp: GZip level must be 1 to 9, not " +
                                    std::to_string(options_.level));
    }
}

bool GZip::accepts_gzip(std::string_view accept_encoding) noexcept {
    std::optional<double> gzip;
    std::optional<double> any;
    detail::for_each_list_item(accept_encoding, [&](std::string_view item) {
        const auto semi = item.find(';');
        const std::string_view coding = detail::trim_ows(item.substr(0, semi));
        const double q = semi == std::string_view::npos ? 1.0 : quality(item.substr(semi + 1));
        if (detail::iequals(coding, "gzip") || detail::iequals(coding, "x-gzip")) {
            gzip = q;
        } else if (coding == "*") {
            any = q;
        }
        return false;
    });
    // RFC 9110 12.5.3: an explicit gzip wins over `*`.
    return gzip ? *gzip > 0 : any && *any > 0;
}

bool GZip::compressible(std::string_view content_type) noexcept {
    const std::string_view type = detail::trim_ows(content_type.substr(0, content_type.find(';')));
    auto is = [type](std::string_view other) { return detail::iequals(type, other); };
    auto ends_with = [type](std::string_view suffix) {
        return type.size() > suffix.size() &&
               detail::iequals(type.substr(type.size() - suffix.size()), suffix);
    };
    if (type.size() > 5 && detail::iequals(type.substr(0, 5), "text/")) {
        return !is("text/event-stream");  // events must reach the client as they are written
    }
    return is("application/json") || is("application/javascript") || is("application/ecmascript") ||
           is("application/x-javascript") || is("application/xml") || is("image/svg+xml") ||
           ends_with("+json") || ends_with("+xml");
}

std::string GZip::compress(std::string_view body, int level) {
    Deflater deflater(level);
    std::string out;
    deflater.run(body, Z_FINISH, out);
    return out;
}

Task<Response> GZip::operator()(Request& request, Next next) const {
    Response response = co_await next();
    // The cheap tests first: most answers below the threshold stop at the first one.
    const std::uint64_t size = response.is_file() ? response.file_length() : response.body().size();
    if ((!response.is_stream() && size < options_.minimum_size) ||
        !is_compressed_status(response.status()) || !compressible(response.content_type()) ||
        !response.header("Content-Encoding").empty()) {
        co_return response;
    }
    response.vary("Accept-Encoding");
    if (request.method() == Method::head ||
        !accepts_gzip(request.header("Accept-Encoding").value_or(""))) {
        co_return response;
    }
    response.with_header("Content-Encoding", "gzip");
    // Ranges are of the identity bytes; the compressed answer offers none.
    response.remove_header("Accept-Ranges");
    // The compressed bytes are another representation: a strong validator must not match the
    // identity one (RFC 9110 8.8.3.3).
    if (const std::string_view etag = response.header("ETag"); etag.starts_with('"')) {
        response.set_header("ETag", "W/" + std::string(etag));
    }
    if (response.is_file()) {
        // Read and compressed chunk by chunk: constant memory for any size.
        BodyStream chunks =
            std::bind_front(&detail::write_file_chunks, detail::FileAccess::share(response));
        response.set_stream(std::bind_front(&gzip_stream, std::move(chunks), options_.level));
    } else if (response.is_stream()) {
        response.set_stream(std::bind_front(&gzip_stream, response.stream_body(), options_.level));
    } else {
        response.body() = compress(response.body(), options_.level);
    }
    co_return response;
}

}  // namespace flamecpp
