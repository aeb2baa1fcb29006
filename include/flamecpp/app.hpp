#pragma once

/// @file
/// The application: a route table, its components and limits. `run` serves it
/// (see <flamecpp/server.hpp>).

#include <cstddef>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <typeinfo>
#include <utility>

#include <flamecpp/detail/component_factory.hpp>
#include <flamecpp/detail/exception_handler.hpp>
#include <flamecpp/detail/flags.hpp>
#include <flamecpp/detail/handler.hpp>
#include <flamecpp/detail/http_endpoint.hpp>
#include <flamecpp/detail/lifespan.hpp>
#include <flamecpp/detail/route_literal.hpp>
#include <flamecpp/detail/websocket_handler.hpp>
#include <flamecpp/flags.hpp>
#include <flamecpp/http_exception.hpp>
#include <flamecpp/injection.hpp>
#include <flamecpp/limits.hpp>
#include <flamecpp/method.hpp>
#include <flamecpp/middleware.hpp>
#include <flamecpp/registrar.hpp>
#include <flamecpp/router.hpp>
#include <flamecpp/server.hpp>
#include <flamecpp/static_files.hpp>

namespace flamecpp {

/// An application: the route table and its limits. Routes are registered before the server
/// starts; mistakes in the table (bad template, duplicate parameter, a route an earlier one
/// shadows, a handler asking for a path parameter the template lacks) throw
/// `std::invalid_argument` naming the routes.
///
/// @code
/// flamecpp::App app;
/// app.route("/", home);                                  // GET (and HEAD)
/// app.route("/items/", create_item, {flamecpp::Method::post});
/// app.route<User>("/users/{user_id:int}");                // an HTTPEndpoint class
/// return app.run(argc, argv);
/// @endcode
///
/// The registration calls (`route`, `websocket_route`, `exception_handler`, `middleware`)
/// come from Registrar, which App shares with Router; each returns the app, to chain.
///
/// Handlers are checked at compile time: a parameter that cannot be injected or a return
/// type that cannot become a response does not compile, with a message saying what is
/// accepted. A handler asking for a component the app lacks stops run() before it listens.
class App : public Registrar<App> {
public:
    /// An app with no routes, the default Limits, redirect_slashes on, `Server: flamecpp`
    /// and the environment prefix `FLAMECPP_`.
    App();
    /// Destroys the routes, components and hooks. A server serving the app must be gone.
    ~App();
    /// Takes the other app's routes, components, hooks and settings; the app moved from is
    /// left empty and may only be destroyed or assigned to.
    App(App&&) noexcept;
    /// Takes the other app's routes, components, hooks and settings, as the move constructor.
    App& operator=(App&&) noexcept;

    /// An app whose every path is served by the endpoint class E, as Starlette allows.
    template <class E>
    static App of() {
        App app;
        app.route<E>("/{path:path}");
        return app;
    }

    /// Mounts `router` at `prefix` (a literal path such as `/api/v1`, without a trailing
    /// slash): its routes serve `prefix` + their own paths, its middleware wraps every answer
    /// under the prefix inside the app's middleware, and its route names become
    /// `name:route` (unqualified when `name` is empty). Mounts nest. Throws
    /// std::invalid_argument for a bad prefix, and as route() does for the routes.
    App& mount(std::string_view prefix, Router router, std::string_view name = {});

    /// Serves the folder of `files` below `prefix` (`/` too, for a site in html mode): one
    /// route `prefix/{path:path}` for GET and HEAD, named `name`, so that
    /// `url_path_for(name, {{"path", "app.js"}})` gives `prefix/app.js`; and a startup hook
    /// that opens the folder. Routes registered before it win over its files.
    App& mount(std::string_view prefix, const StaticFiles& files, std::string_view name = {});

    /// The path of the route named `name` (`api:item` for a mounted one) with `arguments`
    /// for its path parameters, percent-encoded: `app.url_path_for("item", {{"id", 7}})`
    /// gives `/items/7`. Throws std::invalid_argument for an unknown name, a missing or
    /// extra argument, or a value its convertor does not accept (`{id:int}` with "x").
    std::string url_path_for(std::string_view name,
                             std::initializer_list<PathArgument> arguments = {}) const;

    /// Registers how a WebSocket connection closes when its handler throws a T (or derived)
    /// after accepting: `handler` (plain or coroutine) takes a `const T&` and any parameter a
    /// WebSocket handler may take (`WebSocket&`, `Request&`, components) and returns a
    /// flamecpp::WebSocketClose. The most derived registered type wins; the exception is not
    /// logged as an error. Without one, the connection closes with 1011 and the error is
    /// logged.
    ///
    /// @code
    /// app.websocket_exception_handler<RateLimited>([](const RateLimited&) {
    ///     return flamecpp::WebSocketClose{flamecpp::Code::try_again_later, "slow down"};
    /// });
    /// @endcode
    template <class T, class F>
    App& websocket_exception_handler(F handler) {
        static_assert(detail::check_websocket_exception_handler<T, F>());
        using H = detail::WebSocketExceptionHandler<T, std::decay_t<F>>;
        add_websocket_exception_handler(
            detail::exception_type<T>,
            std::unique_ptr<detail::CloseChooser>(new H(std::move(handler))), H::requirements());
        return *this;
    }

    /// Registers a startup hook: a function (plain or coroutine) returning void, taking `App&`
    /// and components, run once when the server starts, before it listens, in registration
    /// order. A hook may register components (`app.component(...)`) for the handlers and the
    /// hooks after it: a connection pool that needs asynchronous set-up is made here. A hook
    /// that throws stops the start: nothing listens, and run() prints one line naming the
    /// hook (`name`, or "startup hook #N") and returns 1.
    ///
    /// @code
    /// app.on_startup([](flamecpp::App& app) { app.component(std::make_shared<Db>(path)); },
    ///                "open the database");
    /// @endcode
    template <class F>
    App& on_startup(F hook, std::string_view name = {}) {
        static_assert(detail::check_lifespan_hook<F>());
        using H = detail::HookHandler<std::decay_t<F>>;
        add_hook(true, name, std::unique_ptr<detail::RouteHandler>(new H(std::move(hook))),
                 H::requirements());
        return *this;
    }

    /// Registers a shutdown hook, as on_startup: run once when the server stops, after the
    /// connections have drained, in the reverse order of registration. Each hook has the
    /// shutdown grace period to finish; one that throws or overruns is logged, the others still
    /// run, and run() returns 1.
    template <class F>
    App& on_shutdown(F hook, std::string_view name = {}) {
        static_assert(detail::check_lifespan_hook<F>());
        using H = detail::HookHandler<std::decay_t<F>>;
        add_hook(false, name, std::unique_ptr<detail::RouteHandler>(new H(std::move(hook))),
                 H::requirements());
        return *this;
    }

    /// Registers a component shared by every request: handlers taking `T&` (or `T`, a copy)
    /// get this instance. T must be a component type (see flamecpp::Component). Throws
    /// std::invalid_argument when a component of type T is registered already.
    ///
    /// @code
    /// app.component(std::make_shared<Counter>());
    /// @endcode
    template <class T>
    App& component(std::shared_ptr<T> instance) {
        static_assert(enable_component<T>,
                      "flamecpp: app.component() takes a component type: derive it from "
                      "flamecpp::Component, or specialize flamecpp::enable_component<T>.");
        detail::ComponentSlot slot;
        slot.type = &typeid(T);
        if constexpr (std::is_convertible_v<T*, detail::ServerBound*>) {
            slot.bound = instance.get();
        }
        slot.shared = std::move(instance);
        add_component(detail::component_id<T>(), std::move(slot));
        return *this;
    }

    /// Registers a component made per request by `factory`, a function (plain or coroutine)
    /// returning T whose parameters are injected too (the request, other components, ...).
    /// Throws std::invalid_argument when a component of type T is registered already.
    ///
    /// @code
    /// CurrentUser current_user(flamecpp::Header<"X-User"> user) { return {*user}; }
    /// app.component<CurrentUser>(current_user);
    /// @endcode
    template <class T, class F>
        requires(!std::is_same_v<std::decay_t<F>, std::shared_ptr<T>>)
    App& component(F factory) {
        static_assert(enable_component<T>,
                      "flamecpp: app.component<T>() takes a component type: derive it from "
                      "flamecpp::Component, or specialize flamecpp::enable_component<T>.");
        static_assert(detail::check_component_factory<T, F>());
        detail::ComponentSlot slot;
        slot.type = &typeid(T);
        slot.factory = std::unique_ptr<detail::ComponentFactory>(
            new detail::FactoryComponent<T, std::decay_t<F>>(std::move(factory)));
        add_component(detail::component_id<T>(), std::move(slot));
        return *this;
    }

    /// Declares a flag of the app's own, parsed by run() with the framework's (`--host`,
    /// `--port`, ...) and shown in `--help`: `--NAME VALUE_NAME`, or a bare `--NAME` for a
    /// bool. T is std::string, long long, double, bool or std::vector<std::string> (the flag
    /// may repeat). When the command line does not give it, the environment variable
    /// `<env prefix><NAME>` does (upper case, '-' as '_': `FLAMECPP_ALLOWED_HOST`); else it
    /// keeps `default_value`. A bad value exits 2 with the usage, as the framework's flags do;
    /// so does a value that `check` (optional) refuses by throwing std::invalid_argument, whose
    /// message is printed. Throws std::invalid_argument for a name that is not `[a-z0-9-]+`
    /// or is taken.
    ///
    /// @code
    /// auto secret = app.flag<std::string>("secret", "signs the session cookie", "", "KEY");
    /// app.on_startup([secret](flamecpp::App& app) { ... *secret ... });
    /// auto hub_url = app.flag<std::string>("broadcast", "where rooms live", "memory://", "URL",
    ///                                      flamecpp::Broadcast::check_url);
    /// @endcode
    template <class T>
    Flag<T> flag(std::string name,
                 std::string help,
                 T default_value = T{},
                 std::string value_name = {},
                 std::function<void(const T&)> check = {}) {
        detail::FlagSpec spec;
        spec.name = std::move(name);
        spec.help = std::move(help);
        spec.value_name = std::move(value_name);
        spec.kind = detail::flag_kind<T>();
        auto value = std::make_shared<T>(std::move(default_value));
        auto given = std::make_shared<bool>(false);
        spec.value = value;
        spec.given = given;
        if (check) {
            spec.check = [value, check = std::move(check)]() -> std::string {
                try {
                    check(*value);
                } catch (const std::invalid_argument& e) {
                    return e.what();
                }
                return {};
            };
        }
        add_flag(std::move(spec));
        return Flag<T>(std::move(value), std::move(given));
    }

    /// The prefix of the environment variables that stand in for flags the command line does
    /// not give, the framework's included (`FLAMECPP_PORT`); default `FLAMECPP_`. Empty: the
    /// environment is not read.
    App& env_prefix(std::string prefix);

    /// The limits enforced on every connection; change them before `run`.
    Limits& limits() noexcept;
    /// The limits enforced on every connection, read-only.
    const Limits& limits() const noexcept;

    /// The `Server` header value (default "flamecpp").
    App& server_header(std::string value);

    /// On (the default, as in Starlette): a GET or HEAD for a path no route serves, whose
    /// twin with the trailing slash added or removed has a route, is answered with a 307 to
    /// the twin (`/tasks/` to `/tasks`, the query kept). Off: a 404.
    App& redirect_slashes(bool on);

    /// Parses the contract's command line (`--host`, `--port`, `--threads`, `--log-level`,
    /// `--tls-cert`, `--tls-key`, `--help`, and the app's own flags) over `defaults`, serves until
    /// SIGINT/SIGTERM, and returns the process exit code: 0 after a graceful stop (or
    /// `--help`), 2 for a bad command line or a ConfigurationError, 1 when the server cannot
    /// start or a shutdown hook failed.
    int run(int argc, char** argv, const ServerOptions& defaults = {});

    /// Internal: the app's state, defined inside the library (an incomplete type to
    /// applications).
    struct Impl;
    /// Internal: the state the server reads.
    Impl& impl() noexcept { return *impl_; }

private:
    friend class Registrar<App>;
    void add_route(std::string_view path,
                   MethodSet methods,
                   std::unique_ptr<detail::RouteHandler> handler,
                   detail::Requirements requirements,
                   detail::OperationDocs docs,
                   std::string_view name,
                   const RouteOptions* options);
    void add_websocket_route(std::string_view path,
                             std::unique_ptr<detail::WebSocketHandler> handler,
                             detail::Requirements requirements,
                             std::string_view name);
    void add_component(std::size_t id, detail::ComponentSlot slot);
    void add_exception_handler(const detail::ExceptionType& type,
                               std::unique_ptr<detail::RouteHandler> handler,
                               detail::Requirements requirements);
    void add_websocket_exception_handler(const detail::ExceptionType& type,
                                         std::unique_ptr<detail::CloseChooser> handler,
                                         detail::Requirements requirements);
    void add_status_handler(Status status,
                            std::unique_ptr<detail::RouteHandler> handler,
                            detail::Requirements requirements);
    void add_middleware(std::unique_ptr<detail::MiddlewareHandler> handler,
                        detail::Requirements requirements);
    void add_flag(detail::FlagSpec spec);
    void add_hook(bool startup,
                  std::string_view name,
                  std::unique_ptr<detail::RouteHandler> handler,
                  detail::Requirements requirements);

    std::unique_ptr<Impl> impl_;
};

}  // namespace flamecpp
