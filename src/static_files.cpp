#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <system_error>
#include <utility>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <flamecpp/app.hpp>
#include <flamecpp/http_exception.hpp>
#include <flamecpp/static_files.hpp>

#include "app/mounts.hpp"
#include "http/files.hpp"

namespace flamecpp {

namespace {

constexpr std::string_view rest_parameter = "{path:path}";

/// An open descriptor, closed with its owner unless released.
class Fd {
public:
    explicit Fd(int fd) noexcept : fd_(fd) {}
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() {
        if (fd_ >= 0) {
            ::close(fd_);
        }
    }
    int get() const noexcept { return fd_; }
    int release() noexcept { return std::exchange(fd_, -1); }

private:
    int fd_;
};

enum class Kind { missing, file, directory };

Kind kind_of(int fd) noexcept {
    struct stat st {};
    if (fd < 0 || ::fstat(fd, &st) != 0) {
        return Kind::missing;
    }
    if (S_ISREG(st.st_mode)) {
        return Kind::file;
    }
    // A FIFO, socket or device is nothing a static folder serves.
    return S_ISDIR(st.st_mode) ? Kind::directory : Kind::missing;
}

}  // namespace

struct StaticFiles::State {
    std::string directory;
    std::optional<Flag<std::string>> flag;
    StaticOptions options;
    std::once_flag opened;
    /// O_PATH descriptor of the folder: written once at startup, before any request.
    std::atomic<int> root{-1};

    ~State() {
        if (root.load() >= 0) {
            ::close(root.load());
        }
    }
};

StaticFiles::StaticFiles(std::string directory, StaticOptions options)
    : state_(std::make_shared<State>()) {
    state_->directory = std::move(directory);
    state_->options = options;
}

StaticFiles::StaticFiles(Flag<std::string> directory, StaticOptions options)
    : state_(std::make_shared<State>()) {
    state_->flag = std::move(directory);
    state_->options = options;
}

std::string StaticFiles::directory() const {
    return state_->flag ? **state_->flag : state_->directory;
}

void StaticFiles::open() const {
    std::call_once(state_->opened, [this] {
        const std::string dir = directory();
        const int fd = ::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
            throw std::runtime_error("the static folder '" + dir +
                                     "' cannot be opened: " + std::strerror(errno));
        }
        state_->root.store(fd);
    });
}

Response StaticFiles::operator()(Request& request) const {
    const int root = state_->root.load(std::memory_order_acquire);
    if (root < 0) {
        throw std::logic_error("flamecpp: StaticFiles answered before the server opened '" +
                               directory() + "' (mount it with App::mount)");
    }
    // The raw rest of the path, still percent-encoded: an encoded '/' must not become a
    // separator. The route is `<literal prefix>{path:path}`, and literals match raw bytes.
    const std::string_view pattern = request.route();
    const std::string_view raw = request.raw_path();
    if (!pattern.ends_with(rest_parameter) || raw.size() < pattern.size() - rest_parameter.size()) {
        throw std::logic_error("flamecpp: StaticFiles serves routes ending in {path:path}");
    }
    const std::string_view rest = raw.substr(pattern.size() - rest_parameter.size());
    const bool html = state_->options.html;

    auto not_found = [&]() -> Response {
        if (html) {
            Fd page(detail::open_beneath(root, "404.html"));
            if (kind_of(page.get()) == Kind::file) {
                Response r = detail::make_file_response(page.release(), "404.html", {});
                r.set_status(Status::not_found);
                return r;
            }
        }
        throw HTTPException(Status::not_found);
    };

    auto relative = detail::static_relative_path(rest);
    if (!relative) {
        return not_found();
    }
    Fd file(detail::open_beneath(root, *relative));
    switch (kind_of(file.get())) {
        case Kind::file:
            return detail::make_file_response(file.release(), *relative, {});
        case Kind::missing:
            return not_found();
        case Kind::directory:
            break;
    }
    if (!html) {
        return not_found();
    }
    if (!rest.empty() && !rest.ends_with('/')) {
        // The page's relative links resolve against the folder only with the trailing '/'.
        std::string location(raw);
        location += '/';
        if (!request.query_string().empty()) {
            location += '?';
            location += request.query_string();
        }
        return Response::redirect(std::move(location));
    }
    std::string index = *relative;
    if (!index.empty() && !index.ends_with('/')) {
        index += '/';
    }
    index += "index.html";
    Fd page(detail::open_beneath(root, index));
    if (kind_of(page.get()) != Kind::file) {
        return not_found();
    }
    return detail::make_file_response(page.release(), index, {});
}

App& App::mount(std::string_view prefix, const StaticFiles& files, std::string_view name) {
    if (prefix != "/") {
        detail::check_mount_prefix(prefix);
    }
    const std::string path =
        (prefix == "/" ? std::string() : std::string(prefix)) + "/" + std::string(rest_parameter);
    RouteOptions options;
    options.doc.include_in_schema = false;  // files, as in Starlette and FastAPI
    route(path, files, {Method::get}, name, options);
    on_startup([files] { files.open(); }, "static files at " + std::string(prefix));
    return *this;
}

}  // namespace flamecpp
