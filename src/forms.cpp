#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <system_error>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <flamecpp/forms.hpp>
#include <flamecpp/http_exception.hpp>
#include <flamecpp/request.hpp>

#include "http/multipart.hpp"
#include "text/ascii.hpp"
#include "text/percent.hpp"

namespace flamecpp {

std::optional<std::string_view> FormData::get(std::string_view name) const noexcept {
    for (const auto& [n, v] : fields_) {
        if (n == name) {
            return std::string_view(v);
        }
    }
    return std::nullopt;
}

std::vector<std::string_view> FormData::get_all(std::string_view name) const {
    std::vector<std::string_view> out;
    for (const auto& [n, v] : fields_) {
        if (n == name) {
            out.emplace_back(v);
        }
    }
    return out;
}

UploadFile* FormData::file(std::string_view name) noexcept {
    for (auto& file : files_) {
        if (file.field() == name) {
            return &file;
        }
    }
    return nullptr;
}

namespace detail {

[[noreturn]] void throw_file_error(const char* what, const std::string& path) {
    throw std::system_error(errno, std::generic_category(), std::string(what) + " " + path);
}

void write_all(int fd, std::string_view bytes, const std::string& path) {
    while (!bytes.empty()) {
        const ssize_t n = ::write(fd, bytes.data(), bytes.size());
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            throw_file_error("cannot write the upload to", path);
        }
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
}

/// The bytes of one uploaded file, shared by the copies of its UploadFile.
struct UploadStore {
    std::string field;
    std::string filename;
    std::string content_type;
    std::string memory;  ///< the bytes, until they are spooled
    std::string path;    ///< the file holding them, once spooled
    /// Open while the file is written, and again once it is read: a form of many files does
    /// not hold a descriptor for each.
    int fd = -1;
    bool spooled = false;    ///< the bytes are in the file at `path`
    bool temporary = false;  ///< `path` is ours to remove
    std::uint64_t size = 0;

    UploadStore() = default;
    UploadStore(const UploadStore&) = delete;
    UploadStore& operator=(const UploadStore&) = delete;
    ~UploadStore() {
        if (fd >= 0) {
            ::close(fd);
        }
        if (temporary) {
            ::unlink(path.c_str());
        }
    }

    static UploadFile make(std::shared_ptr<UploadStore> store) {
        return UploadFile(std::move(store));
    }

    /// Appends the next bytes: in memory while `memory_left` allows (and takes from it),
    /// else to the temporary file.
    void append(std::string_view bytes, std::size_t& memory_left) {
        if (!spooled && bytes.size() > memory_left) {
            memory_left += memory.size();  // given back: the file takes these too
            spool();
        }
        if (spooled) {
            write_all(fd, bytes, path);
        } else {
            memory.append(bytes);
            memory_left -= bytes.size();
        }
        size += bytes.size();
    }

    /// The part is complete: its file's descriptor is closed until it is read.
    void finish() noexcept {
        if (spooled && fd >= 0) {
            ::close(fd);
            fd = -1;
        }
    }

    /// The descriptor to read the spooled bytes from, opened on first use.
    int reader() {
        if (fd < 0) {
            fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
            if (fd < 0) {
                throw_file_error("cannot open the upload", path);
            }
        }
        return fd;
    }

    /// Moves the bytes into a new temporary file.
    void spool() {
        const char* dir = std::getenv("TMPDIR");
        std::string name = dir != nullptr && *dir != '\0' ? dir : "/tmp";
        name += "/flamecpp-upload-XXXXXX";
        const int file = ::mkostemp(name.data(), O_CLOEXEC);
        if (file < 0) {
            throw_file_error("cannot create a temporary file for an upload like", name);
        }
        fd = file;
        path = std::move(name);
        temporary = true;
        spooled = true;
        write_all(fd, memory, path);
        std::string().swap(memory);
    }
};

}  // namespace detail

// (std::string_view on both sides: `store_ ? string : ""` would be a temporary std::string.)
std::string_view UploadFile::field() const noexcept {
    return store_ ? std::string_view(store_->field) : std::string_view();
}
std::string_view UploadFile::filename() const noexcept {
    return store_ ? std::string_view(store_->filename) : std::string_view();
}
std::string_view UploadFile::content_type() const noexcept {
    return store_ ? std::string_view(store_->content_type) : std::string_view();
}
std::uint64_t UploadFile::size() const noexcept { return store_ ? store_->size : 0; }
bool UploadFile::in_memory() const noexcept { return !store_ || !store_->spooled; }

std::size_t UploadFile::read(std::span<char> buffer) {
    if (!store_ || position_ >= store_->size || buffer.empty()) {
        return 0;
    }
    const auto want =
        static_cast<std::size_t>(std::min<std::uint64_t>(buffer.size(), store_->size - position_));
    if (!store_->spooled) {
        std::copy_n(store_->memory.data() + position_, want, buffer.data());
        position_ += want;
        return want;
    }
    const int fd = store_->reader();
    for (;;) {
        const ssize_t n = ::pread(fd, buffer.data(), want, static_cast<off_t>(position_));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            detail::throw_file_error("cannot read the upload", store_->path);
        }
        position_ += static_cast<std::uint64_t>(n);
        return static_cast<std::size_t>(n);
    }
}

void UploadFile::seek(std::uint64_t position) noexcept { position_ = std::min(position, size()); }

std::string UploadFile::contents() const {
    if (!store_) {
        return {};
    }
    if (!store_->spooled) {
        return store_->memory;
    }
    std::string out(static_cast<std::size_t>(store_->size), '\0');
    UploadFile reader(store_);
    std::size_t got = 0;
    while (got < out.size()) {
        const std::size_t n = reader.read(std::span<char>(out.data() + got, out.size() - got));
        if (n == 0) {
            break;  // the file shrank under us
        }
        got += n;
    }
    out.resize(got);
    return out;
}

std::string UploadFile::path() {
    if (!store_) {
        throw std::logic_error("flamecpp: an empty UploadFile has no path");
    }
    if (!store_->spooled) {
        store_->spool();
        store_->finish();
    }
    return store_->path;
}

void UploadFile::save_as(const std::string& target) {
    if (!store_) {
        throw std::logic_error("flamecpp: an empty UploadFile cannot be saved");
    }
    auto& store = *store_;
    if (store.spooled && ::rename(store.path.c_str(), target.c_str()) == 0) {
        // An open descriptor still reads the same file, now under its new name.
        store.path = target;
        store.temporary = false;
        return;
    }
    if (store.spooled && errno != EXDEV) {
        detail::throw_file_error("cannot move the upload to", target);
    }
    // In memory, or on another file system: copy.
    const int out = ::open(target.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0) {
        detail::throw_file_error("cannot create", target);
    }
    try {
        if (!store.spooled) {
            detail::write_all(out, store.memory, target);
        } else {
            UploadFile reader(store_);
            std::string buffer(std::size_t{64} * 1024, '\0');
            while (const std::size_t n = reader.read(buffer)) {
                detail::write_all(out, std::string_view(buffer.data(), n), target);
            }
        }
    } catch (...) {
        ::close(out);
        ::unlink(target.c_str());
        throw;
    }
    ::close(out);
    // From here the bytes are read from `target` (opened on the next read).
    if (store.fd >= 0) {
        ::close(store.fd);
        store.fd = -1;
    }
    if (store.temporary) {
        ::unlink(store.path.c_str());
    }
    std::string().swap(store.memory);
    store.path = target;
    store.spooled = true;
    store.temporary = false;
}

namespace detail {

bool decode_urlencoded(std::string_view body, std::vector<FormData::Field>& out) {
    std::vector<FormData::Field> fields;
    while (!body.empty()) {
        const auto amp = body.find('&');
        const std::string_view pair = body.substr(0, amp);
        body = amp == std::string_view::npos ? std::string_view{} : body.substr(amp + 1);
        if (pair.empty()) {
            continue;
        }
        const auto eq = pair.find('=');
        FormData::Field field;
        if (!percent_decode_append(pair.substr(0, eq), field.first, /*plus_as_space=*/true)) {
            return false;
        }
        if (eq != std::string_view::npos &&
            !percent_decode_append(pair.substr(eq + 1), field.second, /*plus_as_space=*/true)) {
            return false;
        }
        fields.push_back(std::move(field));
    }
    out.insert(out.end(), std::make_move_iterator(fields.begin()),
               std::make_move_iterator(fields.end()));
    return true;
}

namespace {

enum class FormKind { urlencoded, multipart };

/// The kind of form the request's Content-Type announces, and a multipart body's boundary:
/// 415 for another type, 400 for a multipart type without a good boundary.
FormKind form_kind(const Request& request, std::string& boundary) {
    const std::string_view type = request.header("Content-Type").value_or("");
    const std::string_view media = trim_ows(type.substr(0, type.find(';')));
    if (iequals(media, "application/x-www-form-urlencoded")) {
        return FormKind::urlencoded;
    }
    if (iequals(media, "multipart/form-data")) {
        boundary = multipart_boundary(type);
        if (boundary.empty()) {
            throw HTTPException(Status::bad_request,
                                "the multipart body's Content-Type has no valid boundary");
        }
        return FormKind::multipart;
    }
    throw HTTPException(Status::unsupported_media_type,
                        "the body must be a form (application/x-www-form-urlencoded or "
                        "multipart/form-data)");
}

[[noreturn]] void throw_too_many_fields(const Limits& limits) {
    throw HTTPException(
        Status::bad_request,
        "the form has more than " + std::to_string(limits.max_form_fields) + " fields");
}

[[noreturn]] void throw_text_too_large(const Limits& limits) {
    throw HTTPException(
        Status::payload_too_large,
        "the form's text is larger than " + std::to_string(limits.max_form_text_bytes) + " bytes");
}

FormData decode_form(std::string_view body, const Limits& limits) {
    if (body.size() > limits.max_form_text_bytes) {
        throw_text_too_large(limits);
    }
    // Counted before anything is decoded: "a&a&a..." must not become a million fields first.
    std::size_t pairs = 0;
    for (std::size_t start = 0; start <= body.size();) {
        const auto amp = std::min(body.find('&', start), body.size());
        pairs += amp != start ? 1 : 0;
        start = amp + 1;
    }
    if (pairs > limits.max_form_fields) {
        throw_too_many_fields(limits);
    }
    std::vector<FormData::Field> fields;
    if (!decode_urlencoded(body, fields)) {
        throw HTTPException(Status::bad_request, "the form body holds a bad percent escape");
    }
    return FormData(std::move(fields));
}

/// Builds a FormData from a multipart parser's events, enforcing the form limits.
class FormBuilder final : public MultipartSink {
public:
    explicit FormBuilder(const Limits& limits) noexcept
        : limits_(limits), memory_left_(limits.form_spool_bytes) {}

    void begin_part(MultipartPart& part) override {
        if (fields_.size() + files_.size() >= limits_.max_form_fields) {
            throw_too_many_fields(limits_);
        }
        if (part.filename) {
            file_ = std::make_shared<UploadStore>();
            file_->field = std::move(part.name);
            file_->filename = std::move(*part.filename);
            file_->content_type = std::move(part.content_type);
        } else {
            fields_.emplace_back(std::move(part.name), std::string());
        }
    }

    void part_data(std::string_view bytes) override {
        if (file_) {
            file_->append(bytes, memory_left_);
            return;
        }
        if (bytes.size() > text_left_) {
            throw_text_too_large(limits_);
        }
        text_left_ -= bytes.size();
        fields_.back().second.append(bytes);
    }

    void end_part() override {
        if (file_) {
            file_->finish();
            files_.push_back(UploadStore::make(std::move(file_)));
            file_.reset();
        }
    }

    FormData take() { return FormData(std::move(fields_), std::move(files_)); }

private:
    const Limits& limits_;
    std::size_t memory_left_;  ///< of Limits::form_spool_bytes, for files held in memory
    std::size_t text_left_ = limits_.max_form_text_bytes;
    std::vector<FormData::Field> fields_;
    std::vector<UploadFile> files_;
    std::shared_ptr<UploadStore> file_;  ///< the file part being read
};

[[noreturn]] void throw_malformed(const MultipartParser& parser) {
    throw HTTPException(Status::bad_request,
                        "malformed multipart body: " + std::string(parser.error()));
}

}  // namespace

FormData read_form(const Request& request, const Limits& limits) {
    std::string boundary;
    if (form_kind(request, boundary) == FormKind::urlencoded) {
        return decode_form(request.body(), limits);
    }
    MultipartParser parser(boundary);
    FormBuilder builder(limits);
    if (!parser.feed(request.body(), builder) || !parser.finish()) {
        throw_malformed(parser);
    }
    return builder.take();
}

Task<FormData> read_form_body(BodyReader& body, const Request& request, const Limits& limits) {
    std::string boundary;
    if (form_kind(request, boundary) == FormKind::urlencoded) {
        std::string text;
        while (auto chunk = co_await body.read()) {
            if (chunk->size() > limits.max_form_text_bytes - text.size()) {
                throw_text_too_large(limits);
            }
            text.append(*chunk);
        }
        co_return decode_form(text, limits);
    }
    MultipartParser parser(boundary);
    FormBuilder builder(limits);
    while (auto chunk = co_await body.read()) {
        if (!parser.feed(*chunk, builder)) {
            throw_malformed(parser);
        }
    }
    if (!parser.finish()) {
        throw_malformed(parser);
    }
    co_return builder.take();
}

}  // namespace detail
}  // namespace flamecpp
