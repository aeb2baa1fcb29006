#pragma once

/// @file
/// Serving a folder: StaticFiles, mounted into an app at a prefix (Starlette's StaticFiles).

#include <memory>
#include <string>

#include <flamecpp/flags.hpp>
#include <flamecpp/request.hpp>
#include <flamecpp/response.hpp>

namespace flamecpp {

/// How StaticFiles answers.
struct StaticOptions {
    /// The html mode, for a site: a directory answers with its `index.html` (a path without
    /// the trailing '/' is redirected to it), and a missing file with the folder's `404.html`
    /// (status 404) when there is one.
    bool html = false;
};

/// The files of a folder, mounted with App::mount: `GET` and `HEAD` of `prefix/{path}` answer
/// with the file, as Response::file does (content type from the extension, `ETag`,
/// `Last-Modified`, conditional requests, one `Range`, zero-copy sending); other methods
/// get 405. A path that would leave the folder (`..`, an encoded '/', a backslash, a NUL, a
/// symlink leading out) or names a directory or nothing is a 404 (an HTTPException, so the
/// app's handler for 404 makes the page). Symlinks that stay inside the folder are followed
/// (openat2 with RESOLVE_BENEATH; on a kernel without it no symlink is followed).
///
/// @code
/// app.mount("/static", flamecpp::StaticFiles("public"), "static");
/// request.url_for("static", {{"path", "app.js"}});   // http://host/static/app.js
/// @endcode
///
/// The folder is opened when the server starts, before it listens: a missing one stops the
/// start with a line naming it. Copies share the folder.
class StaticFiles {
public:
    /// The folder `directory` (relative to the working directory, or absolute); nothing is
    /// opened yet.
    explicit StaticFiles(std::string directory, StaticOptions options = {});
    /// The folder a flag names (read when the server starts, after the command line).
    explicit StaticFiles(Flag<std::string> directory, StaticOptions options = {});

    /// Opens the folder, once; throws std::runtime_error naming it when it cannot. The app
    /// calls it at startup.
    void open() const;
    /// The folder, as given.
    std::string directory() const;

    /// The route's handler: the file `request` names below the folder. Throws std::logic_error
    /// before open() or on a route that does not end in `{path:path}` (mount it with
    /// App::mount), HTTPException 404 for a path it does not serve.
    Response operator()(Request& request) const;

private:
    struct State;
    std::shared_ptr<State> state_;
};

}  // namespace flamecpp
