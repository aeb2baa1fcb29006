#pragma once

/// @file
/// Route thunks: the one indirect call from the server into a user's handler.

#include <array>
#include <concepts>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <flamecpp/detail/callable.hpp>
#include <flamecpp/detail/inject.hpp>
#include <flamecpp/method.hpp>
#include <flamecpp/response.hpp>

namespace flamecpp::detail {

/// How a handler's return value becomes a Response. <flamecpp/json.hpp> adds JSON values.
template <class R>
struct ResponseConverter {
    static constexpr bool available = false;
};
template <>
struct ResponseConverter<Response> {
    static constexpr bool available = true;
    static Response&& convert(Response&& r) noexcept { return std::move(r); }  // no extra move
};
template <>
struct ResponseConverter<std::string> {
    static constexpr bool available = true;
    static Response convert(std::string&& s) { return Response::text(std::move(s)); }
};
template <>
struct ResponseConverter<std::string_view> {
    static constexpr bool available = true;
    static Response convert(std::string_view s) { return Response::text(std::string(s)); }
};
template <>
struct ResponseConverter<const char*> {
    static constexpr bool available = true;
    static Response convert(const char* s) { return Response::text(std::string(s)); }
};

template <class R>
concept Convertible = ResponseConverter<std::remove_cvref_t<R>>::available;

template <class R, class Handler>
constexpr bool check_result() {
    static_assert(Convertible<R>,
                  "flamecpp: a handler returns a type that cannot become a response (see "
                  "'R = ...' above). Return Response, std::string, std::string_view, const "
                  "char*, boost::json::value, object or array (include <flamecpp/json.hpp>), a "
                  "struct described with BOOST_DESCRIBE_STRUCT (include <flamecpp/body.hpp>), or "
                  "Task<> of one of those.");
    return Convertible<R>;
}

/// What a handler returning R documents: a converter's `doc` (a JSON type), text for strings,
/// otherwise a Response whose shape the route declares.
template <class R>
constexpr ResultDoc result_doc_of() {
    using C = ResponseConverter<std::remove_cvref_t<R>>;
    if constexpr (requires { C::doc; }) {
        return ResultDoc{.kind = ResultDoc::Kind::json, .type = C::doc};
    } else if constexpr (std::same_as<std::remove_cvref_t<R>, Response>) {
        return ResultDoc{};
    } else {
        return ResultDoc{.kind = ResultDoc::Kind::text};
    }
}

/// The operation a handler with parameters `Args` returning `Result` documents, for `method`
/// (Method::other: every method of its route).
template <class Args, class Result, Method M = Method::other>
struct OperationDocOf {
    static constexpr OperationDoc value{.method = M,
                                        .params = ParamDocsOf<Args>::value,
                                        .body = ParamDocsOf<Args>::body,
                                        .result = result_doc_of<Result>()};
    static constexpr std::array<OperationDoc, 1> one{value};
    /// As a span made at compile time (no constructor call in the caller's code).
    static constexpr OperationDocs docs{one};
};

template <class R>
decltype(auto) to_response(R&& value) {
    return ResponseConverter<std::remove_cvref_t<R>>::convert(std::forward<R>(value));
}

/// A task that completes at once, compiled once in the library: what `call_async` returns
/// for a handler that is not a coroutine, so that no coroutine is made for it in the
/// user's translation unit.
Task<void> completed_task();

/// The type-erased handler of one route. The session calls `call_sync` first; a false
/// return means the handler for this method is a coroutine and `call_async` must be awaited.
class RouteHandler {
public:
    virtual ~RouteHandler() = default;
    virtual bool call_sync(CallContext& ctx, Response& out) = 0;
    virtual Task<void> call_async(CallContext& ctx, Response& out) = 0;
    /// What the handler for `method` does with the request body (see BodyUse).
    virtual BodyUse body_use(Method method) const noexcept {
        (void)method;
        return body_use_;
    }
    /// Whether body_use() is other than `none` for some method.
    virtual bool reads_body() const noexcept { return body_use_ != BodyUse::none; }

protected:
    BodyUse body_use_ = BodyUse::none;
};

/// Where a handler's arguments come from: the injector, for every parameter.
struct InjectorArguments {
    template <class P>
    static decltype(auto) get(CallContext& ctx) {
        return resolve<P>(ctx);
    }
};

/// Calls `f` with every parameter produced by `Arguments`.
template <class Arguments, class F, class... P>
decltype(auto) invoke_with(F& f, CallContext& ctx, std::tuple<P...>*) {
    return f(Arguments::template get<P>(ctx)...);
}

/// Calls `f` with every parameter resolved by the injector.
template <class F, class... P>
decltype(auto) invoke_injected(F& f, CallContext& ctx, std::tuple<P...>* args) {
    return invoke_with<InjectorArguments>(f, ctx, args);
}

/// Compile-time checks of a callable handler, at the user's `route()` call.
template <class F>
constexpr bool check_handler() {
    static_assert(HasKnownSignature<F>,
                  "flamecpp: the handler's signature cannot be read. Pass a function, a "
                  "non-generic lambda or a function object with one operator() (no auto "
                  "parameters, no overloads).");
    if constexpr (HasKnownSignature<F>) {
        using Traits = CallableTraits<std::decay_t<F>>;
        using Result = typename TaskResult<typename Traits::result>::type;
        return ParametersCheck<F, typename Traits::args>::value && check_result<Result, F>();
    } else {
        return false;
    }
}

template <class Tuple>
struct TakesNext;
template <class... P>
struct TakesNext<std::tuple<P...>>
    : std::bool_constant<(std::same_as<InjectorKey<P>, Next> || ...)> {};

/// Compile-time checks of a middleware, at the user's `middleware()` call.
template <class F>
constexpr bool check_middleware() {
    static_assert(HasKnownSignature<F>,
                  "flamecpp: the middleware's signature cannot be read. Pass a function, a "
                  "non-generic lambda or a function object with one operator() (no auto "
                  "parameters, no overloads).");
    if constexpr (HasKnownSignature<F>) {
        using Traits = CallableTraits<std::decay_t<F>>;
        using Args = typename Traits::args;
        using Result = typename TaskResult<typename Traits::result>::type;
        static_assert(TakesNext<Args>::value,
                      "flamecpp: a middleware takes flamecpp::Next, the rest of the pipeline, "
                      "and returns co_await next() (or its own answer): "
                      "Task<Response> f(Request& request, flamecpp::Next next).");
        static_assert(std::same_as<Result, Response>,
                      "flamecpp: a middleware returns Task<Response> (see 'Result = ...' "
                      "above): the answer of co_await next(), changed or not, or its own.");
        return TakesNext<Args>::value && std::same_as<Result, Response> &&
               ParametersCheck<F, Args, Caller::middleware>::value;
    } else {
        return false;
    }
}

/// A middleware as the pipeline calls it: one call that gives the middleware's own task, so
/// that a layer costs the middleware's coroutine frame and nothing more.
class MiddlewareHandler {
public:
    virtual ~MiddlewareHandler() = default;
    /// Resolves the parameters from `ctx` and calls the middleware; `ctx` need not outlive
    /// the call (the parameters are bound by then).
    virtual Task<Response> call(CallContext& ctx) = 0;
};

/// The task of a middleware that is not a coroutine: its answer, ready.
Task<Response> ready_response(Response response);

/// A middleware function as a MiddlewareHandler.
template <class F>
class FunctionMiddleware final : public MiddlewareHandler {
    using Traits = CallableTraits<F>;
    using Args = typename Traits::args;

public:
    explicit FunctionMiddleware(F f) : f_(std::move(f)) {}

    Task<Response> call(CallContext& ctx) override {
        if constexpr (TaskResult<typename Traits::result>::is_task) {
            return invoke_injected(f_, ctx, static_cast<Args*>(nullptr));
        } else {
            return ready_response(invoke_injected(f_, ctx, static_cast<Args*>(nullptr)));
        }
    }

    static Requirements requirements() noexcept { return RequirementsOf<Args>::value; }

private:
    F f_;
};

/// A handler function (a view, a middleware, an exception handler) as a RouteHandler, its
/// arguments made by `Arguments`.
template <class F, class Arguments = InjectorArguments>
class FunctionHandler final : public RouteHandler {
    using Traits = CallableTraits<F>;
    using Args = typename Traits::args;
    static constexpr bool is_async = TaskResult<typename Traits::result>::is_task;

public:
    explicit FunctionHandler(F f) : f_(std::move(f)) { body_use_ = BodyUseOf<Args>::value; }

    bool call_sync(CallContext& ctx, Response& out) override {
        if constexpr (is_async) {
            return false;
        } else {
            out = to_response(invoke_with<Arguments>(f_, ctx, static_cast<Args*>(nullptr)));
            return true;
        }
    }

    Task<void> call_async(CallContext& ctx, Response& out) override {
        if constexpr (is_async) {
            return run(ctx, out);
        } else {
            return completed_task();
        }
    }

    static Requirements requirements() noexcept { return RequirementsOf<Args>::value; }
    static OperationDocs docs() noexcept {
        return OperationDocOf<Args, typename TaskResult<typename Traits::result>::type>::docs;
    }

private:
    Task<void> run(CallContext& ctx, Response& out) {
        auto task = invoke_with<Arguments>(f_, ctx, static_cast<Args*>(nullptr));
        auto result = co_await std::move(task);
        out = to_response(std::move(result));
    }

    F f_;
};

}  // namespace flamecpp::detail
