// site: Starlette's application layer in one app (see docs/samples.md, `site`): app-wide
// middleware (request IDs, trusted hosts, CORS, gzip), a static folder and its index page,
// server-sent events, a form, multipart uploads streamed to temporary files,
// exception handlers that make the app's
// 404/418/500 answers, Basic authentication, a session in a signed cookie, a WebSocket ticker,
// an API router mounted at /api/v1 with its own middleware, reverse routing and background
// jobs, and startup/shutdown hooks.
#include <charconv>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <openssl/evp.h>

#include <flamecpp/blocking.hpp>
#include <flamecpp/flamecpp.hpp>
#include <flamecpp/forms.hpp>
#include <flamecpp/json.hpp>
#include <flamecpp/streaming.hpp>
#include <flamecpp/websocket.hpp>

namespace {

using flamecpp::HTTPException;
using flamecpp::Method;
using flamecpp::Response;
using flamecpp::Status;
using flamecpp::Task;

Task<void> sleep_for(std::chrono::milliseconds time) {
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, time);
    co_await timer.async_wait(boost::asio::use_awaitable);
}

// --- Errors ----------------------------------------------------------------------------------

/// An error of the app's own, answered by its exception handler.
struct Teapot : std::runtime_error {
    Teapot() : std::runtime_error("I'm a teapot") {}
};

constexpr const char* not_found_html = R"html(<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Not Found</title>
  <style>
    body { font-family: system-ui, sans-serif; margin: 4rem auto; max-width: 36rem; color: #222; }
    h1 { font-size: 2rem; margin-bottom: 0.5rem; }
    p { line-height: 1.5; }
    a { color: #b4451f; }
  </style>
</head>
<body>
  <h1>Not Found</h1>
  <p>Nothing lives at this address. It may have moved, or the link that brought you here may
     be mistyped.</p>
  <p><a href="/">Back to the home page</a></p>
</body>
</html>
)html";

/// The site's 404: an HTML page (the API router has a JSON one of its own).
Response not_found_page() { return Response::html(not_found_html, Status::not_found); }

/// The API's 404: JSON `{"detail"}`, for unknown paths under it and for the 404s its handlers
/// raise ("item 9 not found").
Response api_not_found(const HTTPException& e) {
    return Response::json(boost::json::object{{"detail", e.detail()}}, Status::not_found);
}

Response teapot_answer(const Teapot& e) {
    return Response::json(boost::json::object{{"detail", e.what()}}, Status::im_a_teapot);
}

Response server_error() {
    return Response::json(boost::json::object{{"detail", "Internal Server Error"}},
                          Status::internal_server_error);
}

// --- The site's routes -----------------------------------------------------------------------

Response teapot() { throw Teapot(); }

Response boom() { throw std::runtime_error("boom: the failure the 500 row shows"); }

/// Basic authentication for admin:secret (a sample's password: a real app keeps a hash).
boost::json::value admin(flamecpp::Header<"Authorization", std::optional<std::string>> auth) {
    const auto credentials = flamecpp::basic_auth(auth->value_or(""));
    if (!credentials || !flamecpp::constant_time_equals(credentials->user, "admin") ||
        !flamecpp::constant_time_equals(credentials->password, "secret")) {
        throw HTTPException(Status::unauthorized, "Unauthorized",
                            {{"WWW-Authenticate", "Basic realm=\"site\""}});
    }
    return boost::json::object{{"user", credentials->user}};
}

boost::json::value visits(flamecpp::Session& session) {
    auto& data = session.data();
    const auto* seen = data.if_contains("visits");
    const std::int64_t n = (seen != nullptr && seen->is_int64() ? seen->as_int64() : 0) + 1;
    data["visits"] = n;
    return boost::json::object{{"visits", n}};
}

/// Every 100 ms a text {"n":K} until the client leaves.
Task<void> ticker(flamecpp::WebSocket& ws) {
    co_await ws.accept();
    try {
        for (std::int64_t n = 1;; ++n) {
            // A named value: GCC 12 miscompiles braced temporaries in a co_await operand.
            const boost::json::value tick = {{"n", n}};
            co_await ws.send_json(tick);
            co_await sleep_for(std::chrono::milliseconds(100));
        }
    } catch (const flamecpp::WebSocketDisconnect&) {
    }
}

/// POST /form: every field of a urlencoded form, each name with its values in order.
boost::json::value form_fields(const flamecpp::FormData& form) {
    boost::json::object out;
    for (const auto& [name, value] : form.fields()) {
        boost::json::value& values = out[name];  // null when new
        if (!values.is_array()) {
            values = boost::json::array();
        }
        values.as_array().emplace_back(value);
    }
    return out;
}

/// The SHA-256 of an uploaded file in hex, read in 64 KiB pieces from where it is kept.
std::string sha256_hex(flamecpp::UploadFile file) {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) {
        throw std::runtime_error("SHA-256 is not available");
    }
    std::vector<char> buffer(std::size_t{64} * 1024);
    file.seek(0);
    while (const std::size_t n = file.read(buffer)) {
        EVP_DigestUpdate(ctx.get(), buffer.data(), n);
    }
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EVP_DigestFinal_ex(ctx.get(), digest, &length);
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < length; ++i) {
        out += hex[digest[i] >> 4];
        out += hex[digest[i] & 0xf];
    }
    return out;
}

/// POST /upload: a multipart form's text fields, and for each file its name, type, size and
/// SHA-256. The files arrive as temporary files (above 1 MiB) that go after the answer; the
/// hashing runs on the blocking pool, so a 100 MiB file does not stall the event loop.
Task<boost::json::value> upload(flamecpp::FormData& form) {
    boost::json::array files;
    for (const flamecpp::UploadFile& file : form.files()) {
        // Named, not a temporary in the co_await: GCC 12 destroys such temporaries twice.
        auto hashing = flamecpp::run_blocking(std::bind_front(&sha256_hex, file));
        std::string digest = co_await std::move(hashing);
        files.push_back(boost::json::object{
            {"field", file.field()},
            {"filename", file.filename()},
            {"content_type", file.content_type()},
            {"size", file.size()},
            {"sha256", digest},
        });
    }
    co_return boost::json::object{{"fields", form_fields(form)}, {"files", std::move(files)}};
}

/// Server-sent `tick` events K = from..5 (or on and on), one every 100 ms. When the client
/// leaves, the server cancels this producer where it waits: nothing to clean up here.
Task<void> tick_events(std::int64_t from, bool forever, flamecpp::EventSink& events) {
    for (std::int64_t k = from; forever || k <= 5; ++k) {
        if (k != from) {
            co_await flamecpp::sleep(std::chrono::milliseconds(100));
        }
        flamecpp::ServerSentEvent tick;
        tick.event = "tick";
        tick.id = std::to_string(k);
        tick.data = boost::json::serialize(boost::json::object{{"n", k}});
        co_await events.send(tick);
    }
}

/// GET /events: resumes after the client's Last-Event-ID (an EventSource reconnecting).
Response events(flamecpp::LastEventId last, flamecpp::Query<"forever", bool, false> forever) {
    std::int64_t from = 1;
    if (last->has_value()) {
        const std::string& text = **last;
        std::int64_t seen = 0;
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seen);
        if (ec != std::errc() || end != text.data() + text.size() || seen < 0 ||
            seen > (std::int64_t{1} << 53)) {
            throw HTTPException(Status::bad_request, "Last-Event-ID is not a tick number");
        }
        from = seen + 1;
    }
    return flamecpp::event_stream(std::bind_front(&tick_events, from, *forever));
}

// --- The API, mounted at /api/v1 -------------------------------------------------------------

struct Item {
    std::int64_t id;
    const char* name;
};
constexpr Item items[] = {{1, "alpha"}, {2, "beta"}};

boost::json::value item_json(const Item& item) {
    return boost::json::object{{"id", item.id}, {"name", item.name}};
}

boost::json::value list_items() {
    boost::json::array out;
    for (const auto& item : items) {
        out.push_back(item_json(item));
    }
    return out;
}

boost::json::value get_item(flamecpp::Path<"id", std::int64_t> id) {
    for (const auto& item : items) {
        if (item.id == *id) {
            return item_json(item);
        }
    }
    throw HTTPException(Status::not_found, "item " + std::to_string(*id) + " not found");
}

boost::json::value links(flamecpp::Request& request) {
    return boost::json::object{{"self", request.url_for("api:links")},
                               {"item", request.url_for("api:item", {{"id", 7}})},
                               {"static", request.url_for("static", {{"path", "app.js"}})}};
}

/// The jobs POST /api/v1/jobs starts, shared by every worker thread.
class Jobs {
public:
    std::int64_t start() {
        std::lock_guard lock(mutex_);
        const std::int64_t id = next_++;
        done_[id] = false;
        return id;
    }
    void finish(std::int64_t id) {
        std::lock_guard lock(mutex_);
        done_[id] = true;
    }
    std::optional<bool> done(std::int64_t id) {
        std::lock_guard lock(mutex_);
        auto it = done_.find(id);
        return it == done_.end() ? std::nullopt : std::optional<bool>(it->second);
    }

private:
    std::mutex mutex_;
    std::map<std::int64_t, bool> done_;
    std::int64_t next_ = 1;
};

/// A job: about 300 ms of waiting (without blocking the thread), then done.
Task<void> run_job(std::shared_ptr<Jobs> jobs, std::int64_t id) {
    co_await sleep_for(std::chrono::milliseconds(300));
    jobs->finish(id);
}

Task<Response> api_version(flamecpp::Next next) {
    Response response = co_await next();
    response.with_header("X-API-Version", "1");
    co_return response;
}

flamecpp::Router api_router(const std::shared_ptr<Jobs>& jobs) {
    flamecpp::Router api;
    api.middleware(api_version);
    api.exception_handler(Status::not_found, api_not_found);
    api.route("/items", list_items, {Method::get}, "items");
    api.route("/items/{id:int}", get_item, {Method::get}, "item");
    api.route("/links", links, {Method::get}, "links");
    api.route(
        "/jobs",
        [jobs] {
            const std::int64_t id = jobs->start();
            // The answer goes out first; the job runs after it has been written.
            return Response::json(boost::json::object{{"id", id}}, Status::accepted)
                .background(run_job(jobs, id));
        },
        {Method::post}, "jobs");
    api.route(
        "/jobs/{id:int}",
        [jobs](flamecpp::Path<"id", std::int64_t> id) {
            const auto done = jobs->done(*id);
            if (!done) {
                throw HTTPException(Status::not_found, "job " + std::to_string(*id) + " not found");
            }
            return boost::json::value{{"id", *id}, {"done", *done}};
        },
        {Method::get}, "job");
    return api;
}

/// The static folder when --static is not given: `static/` beside the executable, found
/// through its real path (a symlink to the binary finds the same folder).
std::string default_static_folder() {
    std::error_code ec;
    const auto exe = std::filesystem::canonical("/proc/self/exe", ec);
    return ec ? std::string("static") : (exe.parent_path() / "static").string();
}

}  // namespace

int main(int argc, char** argv) {
    flamecpp::App app;
    const auto static_folder = app.flag<std::string>(
        "static", "the folder served at /static/ (default: static/ beside the executable)",
        default_static_folder(), "DIR");
    const auto secret = app.flag<std::string>(
        "secret", "signs the session cookie (default: a random key per process)", "", "KEY");
    const auto allowed_hosts = app.flag<std::vector<std::string>>(
        "allowed-host", "a Host to accept (repeatable; default: any host)", {}, "HOST");
    const auto cors_origins = app.flag<std::vector<std::string>>(
        "cors-origin", "an Origin allowed cross-origin requests (repeatable)", {}, "ORIGIN");
    const auto fail_startup =
        app.flag<bool>("fail-startup", "make the startup hook throw (to show the failure path)");

    // The middleware depends on the flags: registered once run() has parsed them. Requests
    // meet it in this order.
    app.on_startup(
        [=](flamecpp::App& site) {
            if (*fail_startup) {
                throw std::runtime_error("--fail-startup was given");
            }
            site.middleware(flamecpp::RequestID{});
            site.middleware(flamecpp::TrustedHost{
                allowed_hosts->empty() ? std::vector<std::string>{"*"} : *allowed_hosts});
            site.middleware(flamecpp::CORS{
                {.allow_origins = *cors_origins, .allow_methods = {"*"}, .allow_headers = {"*"}}});
            site.middleware(flamecpp::GZip{});
            std::string key = *secret;
            if (key.empty()) {
                key = flamecpp::random_hex(32);
                flamecpp::log(flamecpp::LogLevel::warn,
                              "no --secret: sessions are signed with a random key and end when "
                              "the process does");
            }
            site.middleware(flamecpp::Sessions{{.secret_key = std::move(key)}});
            flamecpp::log(flamecpp::LogLevel::info, "startup complete");
        },
        "prepare the site");
    app.on_shutdown([] { flamecpp::log(flamecpp::LogLevel::info, "shutdown complete"); },
                    "say goodbye");

    app.exception_handler(Status::not_found, not_found_page);
    app.exception_handler<Teapot>(teapot_answer);
    app.exception_handler(Status::internal_server_error, server_error);

    app.route("/", [static_folder] { return Response::file(*static_folder + "/index.html"); });
    app.mount("/static", flamecpp::StaticFiles(static_folder), "static");
    app.route("/events", events);
    app.route("/form", form_fields, {Method::post});
    // Up to 100 MiB, above the app's 1 MiB default: 413 and close past it.
    app.route("/upload", upload, {Method::post}, "upload",
              {.max_body_bytes = std::size_t{100} * 1024 * 1024});
    app.route("/teapot", teapot);
    app.route("/boom", boom);
    app.route("/admin", admin);
    app.route("/session", visits);
    app.websocket_route("/ws/ticker", ticker);
    app.mount("/api/v1", api_router(std::make_shared<Jobs>()), "api");
    return app.run(argc, argv);
}
