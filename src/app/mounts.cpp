#include "app/mounts.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <utility>

#include <boost/url/encode.hpp>
#include <boost/url/rfc/pchars.hpp>

#include "app/app_impl.hpp"
#include "app/components.hpp"
#include "app/openapi.hpp"

namespace flamecpp {

Router::Router() : impl_(std::make_unique<Impl>()) {}
Router::~Router() = default;
Router::Router(Router&&) noexcept = default;
Router& Router::operator=(Router&&) noexcept = default;

void Router::add_route(std::string_view path,
                       MethodSet methods,
                       std::unique_ptr<detail::RouteHandler> handler,
                       detail::Requirements requirements,
                       detail::OperationDocs docs,
                       std::string_view name,
                       const RouteOptions* options) {
    auto route = std::make_unique<detail::PendingRoute>();
    route->path = path;
    route->methods = methods;
    if (options != nullptr) {
        route->options = *options;
    }
    route->docs = docs;
    route->handler = std::move(handler);
    route->requirements = requirements;
    route->name = name;
    impl_->entries.push_back({std::move(route), nullptr});
}

void Router::add_websocket_route(std::string_view path,
                                 std::unique_ptr<detail::WebSocketHandler> handler,
                                 detail::Requirements requirements,
                                 std::string_view name) {
    auto route = std::make_unique<detail::PendingRoute>();
    route->path = path;
    route->websocket = std::move(handler);
    route->requirements = requirements;
    route->name = name;
    impl_->entries.push_back({std::move(route), nullptr});
}

void Router::add_middleware(std::unique_ptr<detail::MiddlewareHandler> handler,
                            detail::Requirements requirements) {
    detail::Middleware middleware;
    middleware.handler = std::move(handler);
    middleware.components = detail::components_of(requirements);
    impl_->middleware.push_back(std::move(middleware));
}

void Router::add_exception_handler(const detail::ExceptionType& type,
                                   std::unique_ptr<detail::RouteHandler> handler,
                                   detail::Requirements requirements) {
    auto entry = detail::type_entry("the router's exception handler", type, requirements);
    entry.handler = std::move(handler);
    impl_->exception_handlers.add_type(std::move(entry));
}

void Router::add_status_handler(Status status,
                                std::unique_ptr<detail::RouteHandler> handler,
                                detail::Requirements requirements) {
    auto entry = detail::status_entry("the router's exception handler", status, requirements);
    entry.handler = std::move(handler);
    impl_->exception_handlers.add_status(std::move(entry));
}

Router& Router::mount(std::string_view prefix, Router router, std::string_view name) {
    detail::check_mount_prefix(prefix);
    auto mount = std::make_unique<detail::PendingMount>();
    mount->prefix = prefix;
    mount->name = name;
    mount->router = std::make_unique<Router>(std::move(router));
    impl_->entries.push_back({nullptr, std::move(mount)});
    return *this;
}

namespace detail {

void check_mount_prefix(std::string_view prefix) {
    auto fail = [prefix](std::string_view why) {
        throw std::invalid_argument("flamecpp: mount prefix '" + std::string(prefix) +
                                    "': " + std::string(why));
    };
    if (prefix.empty() || prefix.front() != '/') {
        fail("it must start with '/'");
    }
    if (prefix.size() == 1) {
        fail("the root is not a prefix: register the routes on the app itself");
    }
    if (prefix.back() == '/') {
        fail("no trailing '/' (the routes' paths start with one)");
    }
    if (prefix.find_first_of("{}?#") != std::string_view::npos) {
        fail("a prefix is a literal path: no parameters, '?' or '#'");
    }
    if (prefix.find("//") != std::string_view::npos) {
        fail("empty segment ('//')");
    }
}

std::vector<const ExceptionHandlers*> mount_handler_chain(const Mount& mount,
                                                          const ExceptionHandlers& app) {
    std::vector<const ExceptionHandlers*> chain;
    for (const Mount* m = &mount; m != nullptr; m = m->parent) {
        if (!m->exception_handlers.empty()) {
            chain.push_back(&m->exception_handlers);
        }
    }
    if (chain.empty()) {
        return chain;
    }
    chain.push_back(&app);
    return chain;
}

std::vector<const Middleware*> mount_layers(const Mount& mount) {
    std::vector<const Mount*> chain;
    for (const Mount* m = &mount; m != nullptr; m = m->parent) {
        chain.push_back(m);
    }
    std::vector<const Middleware*> layers;
    std::reverse(chain.begin(), chain.end());  // outermost first
    for (const Mount* m : chain) {
        for (const auto& middleware : m->middleware) {
            layers.push_back(&middleware);
        }
    }
    return layers;
}

namespace {

std::string qualify(std::string_view outer, std::string_view inner) {
    if (outer.empty()) {
        return std::string(inner);
    }
    if (inner.empty()) {
        return std::string(outer);
    }
    return std::string(outer) + ":" + std::string(inner);
}

void add_mount(App::Impl& app,
               const std::string& prefix,
               const std::string& name,
               const Mount* parent,
               flamecpp::Router& router) {
    auto owned = std::make_unique<Mount>();
    Mount& mount = *owned;
    mount.prefix = prefix;
    mount.name = name;
    mount.parent = parent;
    mount.middleware = std::move(router.impl().middleware);
    mount.exception_handlers = std::move(router.impl().exception_handlers);
    for (std::size_t i = 0; i < mount.middleware.size(); ++i) {
        mount.middleware[i].name =
            "middleware #" + std::to_string(i + 1) + " of the mount " + prefix;
    }
    app.mounts.push_back(std::move(owned));
    app.router.add_mount(prefix, &mount);
    for (auto& entry : router.impl().entries) {
        if (entry.mount) {
            add_mount(app, prefix + entry.mount->prefix, qualify(name, entry.mount->name), &mount,
                      *entry.mount->router);
            continue;
        }
        PendingRoute& pending = *entry.route;
        const std::string path = prefix + pending.path;
        Route& route =
            pending.websocket
                ? app.router.add_websocket(path, std::move(pending.websocket), pending.requirements)
                : app.router.add(path, pending.methods, std::move(pending.handler),
                                 pending.requirements);
        route.mount = &mount;
        route.max_body_bytes = pending.options.max_body_bytes;
        route.docs = pending.docs;
        route.doc = std::move(pending.options.doc);
        check_route_docs(route);
        if (!pending.name.empty()) {
            add_route_name(app, qualify(name, pending.name), route);
        }
    }
}

/// Percent-encodes one path segment's worth of `text` (RFC 3986 pchar), keeping '/' when the
/// parameter spans segments.
std::string encode_path_value(std::string_view text, bool keep_slashes) {
    std::string out;
    std::size_t start = 0;
    for (;;) {
        const std::size_t slash = keep_slashes ? text.find('/', start) : std::string_view::npos;
        out += boost::urls::encode(text.substr(start, slash - start), boost::urls::pchars);
        if (slash == std::string_view::npos) {
            return out;
        }
        out += '/';
        start = slash + 1;
    }
}

/// True when a '/'-separated segment of `value` is "." or "..".
bool has_dot_segment(std::string_view value) noexcept {
    std::size_t start = 0;
    for (;;) {
        const std::size_t slash = value.find('/', start);
        const std::string_view segment = value.substr(start, slash - start);
        if (segment == "." || segment == "..") {
            return true;
        }
        if (slash == std::string_view::npos) {
            return false;
        }
        start = slash + 1;
    }
}

}  // namespace

void add_route_name(App::Impl& app, std::string name, Route& route) {
    route.name = name;
    auto [at, added] = app.route_names.emplace(std::move(name), &route);
    if (!added) {
        throw std::invalid_argument("flamecpp: route name '" + at->first + "' is used twice: by " +
                                    at->second->pattern + " and by " + route.pattern);
    }
}

void mount_router(App::Impl& app,
                  std::string_view prefix,
                  std::string_view name,
                  flamecpp::Router& router) {
    check_mount_prefix(prefix);
    add_mount(app, std::string(prefix), std::string(name), nullptr, router);
}

std::string url_path_for(const App::Impl& app,
                         std::string_view name,
                         std::initializer_list<PathArgument> arguments) {
    const std::string quoted = "url_path_for('" + std::string(name) + "')";
    auto found = app.route_names.find(name);
    if (found == app.route_names.end()) {
        throw std::invalid_argument("flamecpp: " + quoted + ": no route has that name");
    }
    const Route& route = *found->second;
    std::size_t used = 0;
    std::string path;
    const std::string_view pattern = route.pattern;
    std::size_t i = 0;
    while (i < pattern.size()) {
        const std::size_t open = pattern.find('{', i);
        path.append(pattern.substr(i, open - i));
        if (open == std::string_view::npos) {
            break;
        }
        const std::size_t close = pattern.find('}', open);
        const std::string_view inner = pattern.substr(open + 1, close - open - 1);
        const std::string_view param = inner.substr(0, inner.find(':'));
        const auto segment =
            std::find_if(route.segments.begin(), route.segments.end(),
                         [param](const Segment& s) { return s.is_param && s.text == param; });
        const auto argument =
            std::find_if(arguments.begin(), arguments.end(),
                         [param](const PathArgument& a) { return a.name == param; });
        if (argument == arguments.end()) {
            throw std::invalid_argument("flamecpp: " + quoted + ": missing path parameter '" +
                                        std::string(param) + "' of " + route.pattern);
        }
        const auto& entry = convertor_entry(segment->convertor);
        if (!convertor_accepts(segment->convertor, argument->value) ||
            (!entry.spans_slashes && argument->value.find('/') != std::string::npos)) {
            throw std::invalid_argument("flamecpp: " + quoted + ": '" + argument->value +
                                        "' does not fit {" + std::string(inner) + "} of " +
                                        route.pattern);
        }
        if (has_dot_segment(argument->value)) {
            // Browsers resolve "/users/.." to "/": the path would name another route.
            throw std::invalid_argument("flamecpp: " + quoted + ": '" + argument->value +
                                        "' holds a '.' or '..' segment");
        }
        path += encode_path_value(argument->value, entry.spans_slashes);
        ++used;
        i = close + 1;
    }
    if (used != arguments.size()) {
        for (const auto& a : arguments) {
            if (std::none_of(route.segments.begin(), route.segments.end(),
                             [&a](const Segment& s) { return s.is_param && s.text == a.name; })) {
                throw std::invalid_argument("flamecpp: " + quoted + ": " + route.pattern +
                                            " has no parameter '" + std::string(a.name) + "'");
            }
        }
        throw std::invalid_argument("flamecpp: " + quoted + ": a parameter is given twice");
    }
    return path;
}

}  // namespace detail
}  // namespace flamecpp
