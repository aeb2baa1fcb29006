#include <algorithm>
#include <cstdio>
#include <exception>
#include <iostream>
#include <stdexcept>

#include <flamecpp/app.hpp>

#include "app/app_impl.hpp"
#include "app/cli.hpp"
#include "app/components.hpp"
#include "app/openapi.hpp"
#include "log.hpp"

namespace flamecpp {

namespace detail {

Task<void> completed_task() { co_return; }

Task<Response> ready_response(Response response) { co_return response; }

Task<WebSocketClose> ready_close(WebSocketClose close) { co_return close; }

namespace {

/// The route handler of every HTTPEndpoint class: the class's member table, indexed by
/// the request's method.
class EndpointRoute final : public RouteHandler {
public:
    explicit EndpointRoute(const EndpointTable& table) noexcept : table_(table) {}

    bool call_sync(CallContext& ctx, Response& out) override {
        const EndpointMember* member = find(ctx.request.method());
        if (member == nullptr) {
            out = Response::text("Method Not Allowed", Status::method_not_allowed);
            return true;
        }
        if (member->call == nullptr) {
            return false;
        }
        member->call(ctx, out);
        return true;
    }

    Task<void> call_async(CallContext& ctx, Response& out) override {
        const EndpointMember* member = find(ctx.request.method());
        if (member == nullptr || member->start == nullptr) {
            return completed_task();
        }
        return member->start(ctx, out);
    }

    BodyUse body_use(Method method) const noexcept override {
        const EndpointMember* member = find(method);
        return member != nullptr ? member->body_use : BodyUse::none;
    }

    bool reads_body() const noexcept override {
        for (const EndpointMember& member : table_) {
            if (member.body_use != BodyUse::none) {
                return true;
            }
        }
        return false;
    }

private:
    const EndpointMember* find(Method method) const noexcept {
        auto index = static_cast<std::size_t>(method);
        if (index >= table_.size()) {
            return nullptr;
        }
        const EndpointMember& member = table_[index];
        return member.call != nullptr || member.start != nullptr ? &member : nullptr;
    }

    const EndpointTable& table_;
};

}  // namespace

std::unique_ptr<RouteHandler> endpoint_handler(const EndpointTable& table) {
    return std::make_unique<EndpointRoute>(table);
}

}  // namespace detail

App::App() : impl_(std::make_unique<Impl>()) { impl_->self = this; }
App::~App() = default;
App::App(App&& other) noexcept : impl_(std::move(other.impl_)) {
    if (impl_) {
        impl_->self = this;
    }
}
App& App::operator=(App&& other) noexcept {
    impl_ = std::move(other.impl_);
    if (impl_) {
        impl_->self = this;
    }
    return *this;
}

void App::add_component(std::size_t id, detail::ComponentSlot slot) {
    auto& slots = impl_->components;
    if (slots.size() <= id) {
        slots.resize(id + 1);
    }
    if (slot.factory) {
        slot.dependencies = detail::components_of(slot.factory->requirements());
    }
    if (slots[id].registered()) {
        throw std::invalid_argument("flamecpp: a component of this type is already registered");
    }
    slots[id] = std::move(slot);
}

void App::add_flag(detail::FlagSpec spec) {
    const std::string& name = spec.name;
    if (name.empty() || name.front() == '-' || !std::all_of(name.begin(), name.end(), [](char c) {
            return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
        })) {
        throw std::invalid_argument("flamecpp: flag name '" + name +
                                    "': lower-case letters, digits and '-' only, no leading '-'");
    }
    if (detail::is_framework_flag(name) ||
        std::any_of(impl_->flags.begin(), impl_->flags.end(),
                    [&name](const detail::FlagSpec& f) { return f.name == name; })) {
        throw std::invalid_argument("flamecpp: flag '--" + name + "' is declared already");
    }
    impl_->flags.push_back(std::move(spec));
}

App& App::env_prefix(std::string prefix) {
    impl_->env_prefix = std::move(prefix);
    return *this;
}

App& App::redirect_slashes(bool on) {
    impl_->redirect_slashes = on;
    return *this;
}

Limits& App::limits() noexcept { return impl_->limits; }
const Limits& App::limits() const noexcept { return impl_->limits; }

App& App::server_header(std::string value) {
    impl_->server_header = std::move(value);
    return *this;
}

void App::add_route(std::string_view path,
                    MethodSet methods,
                    std::unique_ptr<detail::RouteHandler> handler,
                    detail::Requirements requirements,
                    detail::OperationDocs docs,
                    std::string_view name,
                    const RouteOptions* options) {
    auto& route = impl_->router.add(path, methods, std::move(handler), requirements);
    route.docs = docs;
    if (options != nullptr) {
        route.max_body_bytes = options->max_body_bytes;
        route.doc = options->doc;
    }
    detail::check_route_docs(route);
    if (!name.empty()) {
        detail::add_route_name(*impl_, std::string(name), route);
    }
}

App& App::mount(std::string_view prefix, Router router, std::string_view name) {
    detail::mount_router(*impl_, prefix, name, router);
    return *this;
}

std::string App::url_path_for(std::string_view name,
                              std::initializer_list<PathArgument> arguments) const {
    return detail::url_path_for(*impl_, name, arguments);
}

void App::add_exception_handler(const detail::ExceptionType& type,
                                std::unique_ptr<detail::RouteHandler> handler,
                                detail::Requirements requirements) {
    auto entry = detail::type_entry("the exception handler", type, requirements);
    entry.handler = std::move(handler);
    impl_->exception_handlers.add_type(std::move(entry));
}

void App::add_websocket_exception_handler(const detail::ExceptionType& type,
                                          std::unique_ptr<detail::CloseChooser> handler,
                                          detail::Requirements requirements) {
    auto entry = detail::type_entry("the WebSocket exception handler", type, requirements);
    entry.closer = std::move(handler);
    impl_->websocket_exception_handlers.add_type(std::move(entry));
}

void App::add_status_handler(Status status,
                             std::unique_ptr<detail::RouteHandler> handler,
                             detail::Requirements requirements) {
    auto entry = detail::status_entry("the exception handler", status, requirements);
    entry.handler = std::move(handler);
    impl_->exception_handlers.add_status(std::move(entry));
}

void App::add_middleware(std::unique_ptr<detail::MiddlewareHandler> handler,
                         detail::Requirements requirements) {
    detail::Middleware middleware;
    middleware.handler = std::move(handler);
    middleware.components = detail::components_of(requirements);
    middleware.name = "middleware #" + std::to_string(impl_->middleware.size() + 1);
    impl_->middleware.push_back(std::move(middleware));
}

void App::add_hook(bool startup,
                   std::string_view name,
                   std::unique_ptr<detail::RouteHandler> handler,
                   detail::Requirements requirements) {
    auto& hooks = startup ? impl_->startup_hooks : impl_->shutdown_hooks;
    detail::Hook hook;
    hook.name = name.empty()
                    ? std::string(startup ? "startup" : "shutdown") + " hook #" +
                          std::to_string(hooks.size() + 1)
                    : (startup ? "startup hook '" : "shutdown hook '") + std::string(name) + "'";
    hook.handler = std::move(handler);
    hook.components = detail::components_of(requirements);
    hooks.push_back(std::move(hook));
}

void App::add_websocket_route(std::string_view path,
                              std::unique_ptr<detail::WebSocketHandler> handler,
                              detail::Requirements requirements,
                              std::string_view name) {
    auto& route = impl_->router.add_websocket(path, std::move(handler), requirements);
    if (!name.empty()) {
        detail::add_route_name(*impl_, std::string(name), route);
    }
}

int App::run(int argc, char** argv, const ServerOptions& defaults) {
    auto cli = detail::parse_command_line(argc, argv, defaults, impl_->flags, impl_->env_prefix);
    if (!cli.error.empty()) {
        std::cerr << "error: " << cli.error << "\n" << cli.usage;
        return 2;
    }
    if (cli.help) {
        std::cout << cli.usage;
        return 0;
    }
    try {
        Server server(*this, cli.options);
        server.wait();
        return server.shutdown_failed() ? 1 : 0;
    } catch (const ConfigurationError& e) {
        std::cerr << "error: " << e.what() << "\n";
        return 2;
    } catch (const std::exception& e) {
        // One line, whatever the log level: what could not start, and why.
        std::cerr << "error: cannot start: " << e.what() << "\n";
        return 1;
    }
}

}  // namespace flamecpp
