#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <flamecpp/detail/convertors.hpp>
#include <flamecpp/detail/handler.hpp>
#include <flamecpp/detail/websocket_handler.hpp>
#include <flamecpp/method.hpp>
#include <flamecpp/request.hpp>
#include <flamecpp/response.hpp>
#include <flamecpp/routing.hpp>

namespace flamecpp::detail {

struct Mount;  // app/mounts.hpp: a mounted router's prefix and middleware

/// One piece of a compiled route template: a literal segment or a parameter.
struct Segment {
    bool is_param = false;
    std::string text;  ///< the decoded literal, or the parameter's name
    Convertor convertor = default_convertor;
};

/// A route: its template compiled into segments, the methods it serves, its handler.
struct Route {
    std::string pattern;
    std::vector<Segment> segments;
    MethodSet methods;
    std::unique_ptr<RouteHandler> handler;         ///< HTTP routes
    std::unique_ptr<WebSocketHandler> websocket;   ///< WebSocket routes
    std::vector<ComponentRequirement> components;  ///< checked when the server starts
    bool needs_components = false;  ///< a factory component must be made before the call
    bool async_components = false;  ///< ... and one of them is a coroutine
    const Mount* mount = nullptr;   ///< the innermost mount the route came from, if any
    std::optional<std::size_t> max_body_bytes;  ///< RouteOptions: else the app's limit
    bool reads_body = false;  ///< a handler takes the body as a stream or a form (BodyUse)
    std::string name;         ///< the qualified name, for url_path_for and the schema
    OperationDocs docs;       ///< what the handler's types document (static storage)
    Operation doc;            ///< RouteOptions::doc
    RouteKind kind() const noexcept { return websocket ? RouteKind::websocket : RouteKind::http; }
};

/// Parses a template ("/users/{id:int}") into segments; throws std::invalid_argument saying
/// what is wrong and where.
std::vector<Segment> compile_template(std::string_view pattern);

/// True when `text` is accepted by `convertor` (for every convertor but path: one segment).
bool convertor_accepts(Convertor convertor, std::string_view text) noexcept;

/// Scratch space reused across requests on one connection, so matching does not allocate.
struct MatchScratch {
    std::vector<std::string_view> raw_segments;
    std::string decoded;  ///< decoded segments, reserved up front so views stay valid
    std::vector<std::string_view> segments;
};

enum class MatchStatus { found, not_found, method_not_allowed, bad_path };

struct MatchResult {
    MatchStatus status = MatchStatus::not_found;
    const Route* route = nullptr;
    MethodSet allow;          ///< the methods served at this path, for 405 and OPTIONS
    bool other_kind = false;  ///< a route of the other kind (HTTP/WebSocket) has this path
};

/// The app's own answer when no route serves a request: 400 for a path that cannot be
/// decoded, 404 (426 where only a WebSocket lives and this is no upgrade), 405 with `Allow`,
/// 204 with `Allow` for OPTIONS.
Response unrouted_answer(const MatchResult& match, Method method, bool upgrade);

/// The components among `requirements`, each with its id.
std::vector<ComponentRequirement> components_of(Requirements requirements);

/// The route table: registration-time checks, then matching on precompiled segments.
class Router {
public:
    /// Adds a route; throws std::invalid_argument for a bad template, a duplicated parameter
    /// name, a route an earlier one shadows, or a handler needing a parameter the template
    /// lacks. Every message names the route(s).
    Route& add(std::string_view pattern,
               MethodSet methods,
               std::unique_ptr<RouteHandler> handler,
               Requirements requirements);
    /// Adds a WebSocket route, with the same checks; it shadows only WebSocket routes.
    Route& add_websocket(std::string_view pattern,
                         std::unique_ptr<WebSocketHandler> handler,
                         Requirements requirements);

    /// Records a mount's prefix, for mount_for.
    void add_mount(std::string prefix, const Mount* mount);
    /// The innermost mount whose prefix holds `raw_path` (the prefix itself, or the prefix and
    /// a '/'), or nullptr: whose middleware answers a path no route serves.
    const Mount* mount_for(std::string_view raw_path) const noexcept;
    bool has_mounts() const noexcept { return !mounts_.empty(); }

    /// Finds the route of `kind` for `method` and the still-encoded `raw_path`; fills
    /// `params` with views into `scratch`.
    MatchResult match(Method method,
                      std::string_view raw_path,
                      MatchScratch& scratch,
                      std::vector<PathParam>& params,
                      RouteKind kind = RouteKind::http) const;

    const std::vector<std::unique_ptr<Route>>& routes() const noexcept { return routes_; }
    std::vector<std::unique_ptr<Route>>& routes() noexcept { return routes_; }

private:
    Route& add_route(std::unique_ptr<Route> route, Requirements requirements);
    /// Enters a route of literal segments in literal_routes_ when it is the first to match
    /// its path.
    void index_literal(const Route& route);

    /// The literal route for `raw_path`, or nullptr.
    const Route* find_literal(std::string_view raw_path) const noexcept;

    std::vector<std::unique_ptr<Route>> routes_;
    std::vector<std::pair<std::string, const Mount*>> mounts_;
    /// Routes whose template is one literal path, by that path, when no earlier route matches
    /// it: found by one lookup instead of a scan. Open addressing in a power-of-two table at
    /// most half full; empty when there are none.
    struct LiteralSlot {
        std::string path;
        const Route* route = nullptr;
    };
    static void place_literal(std::vector<LiteralSlot>& slots, LiteralSlot slot);
    std::vector<LiteralSlot> literal_slots_;
    std::size_t literal_count_ = 0;
};

}  // namespace flamecpp::detail
