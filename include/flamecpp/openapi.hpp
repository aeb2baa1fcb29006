#pragma once

/// @file
/// The OpenAPI 3.1 document of an app, written by the handlers' types: every route's
/// parameters (Path, Query, Header, Cookie with their defaults and Rules), its body (Body<T>,
/// Form<T>), its answers (a described struct or vector returned, the `responses` declared in
/// RouteOptions::doc, the 400 and 415 the framework gives), and a Swagger UI page to try it.
/// Not part of <flamecpp/flamecpp.hpp>: an app that serves no schema pays nothing for it.
///
/// @code
/// #include <flamecpp/openapi.hpp>
///
/// flamecpp::serve_openapi(app, {.title = "todo", .version = "1.0.0"});
/// // GET /openapi.json: the document, built once at startup; GET /docs: Swagger UI
/// @endcode

#include <optional>
#include <string>
#include <vector>

#include <flamecpp/app.hpp>
#include <flamecpp/flags.hpp>

namespace flamecpp {

/// What serve_openapi serves, and where.
struct OpenAPIOptions {
    /// `info.title`.
    std::string title = "flamecpp";
    /// `info.version`: the version of your API.
    std::string version = "0.1.0";
    /// `info.description`, CommonMark.
    std::string description{};
    /// `servers`: the URLs the API is served at; `/` (where the document is) by default.
    std::vector<std::string> servers = {"/"};
    /// Where the document is served; empty: not served (nor the pages, which load it).
    std::string openapi_path = "/openapi.json";
    /// Where Swagger UI is served; empty: not served.
    std::string docs_path = "/docs";
    /// Where ReDoc is served (`/redoc`); empty (the default): not served.
    std::string redoc_path{};
    /// Where Swagger UI's `swagger-ui.css` and `swagger-ui-bundle.js` are loaded from: a URL
    /// (a public CDN by default). Ignored when `assets_dir` is set.
    std::string assets_url = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5";
    /// A local folder holding those two files (npm's `swagger-ui-dist`), served by the app at
    /// `docs_path + "/assets"`; empty: `assets_url` is used.
    std::string assets_dir{};
    /// A flag naming that folder (`--docs-assets DIR`); when the command line or the
    /// environment gives it, it wins over `assets_dir`.
    std::optional<Flag<std::string>> assets_dir_flag{};
    /// The ReDoc script's URL.
    std::string redoc_url = "https://cdn.jsdelivr.net/npm/redoc@2/bundles/redoc.standalone.js";
};

/// Serves `app`'s OpenAPI document at `options.openapi_path` and the docs pages. The
/// document is built and serialized once, by a startup hook (after every route is
/// registered); requests get the same bytes. Routes with `include_in_schema = false`, static
/// files, WebSocket routes and these routes themselves are left out. Call it once, before
/// `run`.
void serve_openapi(App& app, const OpenAPIOptions& options = {});

/// The OpenAPI document of `app`'s routes as registered now, serialized: what serve_openapi
/// serves (for tests, or to write the schema to a file at build time). Throws
/// std::invalid_argument when two operations are given the same operationId.
std::string openapi_json(App& app, const OpenAPIOptions& options = {});

}  // namespace flamecpp
