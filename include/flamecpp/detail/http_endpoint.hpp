#pragma once

/// @file
/// The route thunk of a class-based HTTPEndpoint.

#include <concepts>
#include <cstddef>
#include <type_traits>
#include <utility>

#include <flamecpp/detail/handler.hpp>
#include <flamecpp/detail/route_literal.hpp>
#include <flamecpp/endpoints.hpp>

namespace flamecpp::detail {

/// One verb of an HTTPEndpoint class: `of<E>()` is E's handler member for it, and exists
/// only when E has one such member (not overloaded, not a template). These specializations
/// are the only place a verb's member name is written; everything else walks `http_verbs`.
template <Method M>
struct Verb {};

// clang-format off
template <> struct Verb<Method::get> {
    template <class E> static constexpr auto of() -> decltype(&E::get) { return &E::get; }
};
template <> struct Verb<Method::head> {
    template <class E> static constexpr auto of() -> decltype(&E::head) { return &E::head; }
};
template <> struct Verb<Method::post> {
    template <class E> static constexpr auto of() -> decltype(&E::post) { return &E::post; }
};
template <> struct Verb<Method::put> {
    template <class E> static constexpr auto of() -> decltype(&E::put) { return &E::put; }
};
template <> struct Verb<Method::patch> {
    template <class E> static constexpr auto of() -> decltype(&E::patch) { return &E::patch; }
};
template <> struct Verb<Method::delete_> {
    template <class E> static constexpr auto of() -> decltype(&E::delete_) { return &E::delete_; }
};
template <> struct Verb<Method::options> {
    template <class E> static constexpr auto of() -> decltype(&E::options) { return &E::options; }
};
// clang-format on

template <Method M, class E>
concept HasVerb = requires {
    Verb<M>::template of<E>();
};

/// E's member for verb M (only where HasVerb<M, E>).
template <Method M, class E>
inline constexpr auto verb_member = Verb<M>::template of<E>();

/// The verb whose member serves M on E: M's own, or GET's for a HEAD that E does not define
/// (RFC 9110 9.3.2); Method::other when E does not serve M.
template <Method M, class E>
constexpr Method served_by() {
    if constexpr (HasVerb<M, E>) {
        return M;
    } else if constexpr (M == Method::head && HasVerb<Method::get, E>) {
        return Method::get;
    } else {
        return Method::other;
    }
}

template <class F, std::size_t... I>
constexpr void for_each_verb(F& f, std::index_sequence<I...>) {
    (f.template operator()<http_verbs[I]>(), ...);
}

/// Calls `f.template operator()<M>()` for every verb M of `http_verbs`, in order.
template <class F>
constexpr void for_each_verb(F f) {
    for_each_verb(f, std::make_index_sequence<http_verbs.size()>{});
}

template <class F, std::size_t... I>
constexpr bool find_verb(F& f, std::index_sequence<I...>) {
    return (f.template operator()<http_verbs[I]>() || ...);
}

/// As for_each_verb, stopping at the first call that returns true; says whether one did.
template <class F>
constexpr bool find_verb(F f) {
    return find_verb(f, std::make_index_sequence<http_verbs.size()>{});
}

/// The methods an endpoint class serves, known at compile time. HEAD comes with GET.
template <class E>
constexpr MethodSet endpoint_methods() {
    MethodSet set;
    for_each_verb([&]<Method M>() {
        if constexpr (served_by<M, E>() != Method::other) {
            set.insert(M);
        }
    });
    return set;
}

template <auto Member>
constexpr bool member_is_async =
    TaskResult<typename CallableTraits<decltype(Member)>::result>::is_task;

template <auto Member, class E>
constexpr bool check_member() {
    using Traits = CallableTraits<decltype(Member)>;
    using Result = typename TaskResult<typename Traits::result>::type;
    return ParametersCheck<E, typename Traits::args>::value && check_result<Result, E>();
}

template <class E>
constexpr bool check_endpoint() {
    static_assert(std::derived_from<E, HTTPEndpoint>,
                  "flamecpp: route<E>() takes a class derived from flamecpp::HTTPEndpoint.");
    static_assert(std::is_default_constructible_v<E>,
                  "flamecpp: an HTTPEndpoint class is created per request and must be "
                  "default-constructible; hold shared state in a component instead.");
    static_assert(!endpoint_methods<E>().empty(),
                  "flamecpp: the HTTPEndpoint class has no handler member. Add one of get, head, "
                  "post, put, patch, delete_, options (one overload each, not a template).");
    bool ok = true;
    for_each_verb([&]<Method M>() {
        if constexpr (HasVerb<M, E>) {
            ok = ok && check_member<verb_member<M, E>, E>();
        }
    });
    return ok;
}

template <FixedString Pattern, class E>
constexpr bool check_endpoint_literal() {
    bool ok = true;
    for_each_verb([&]<Method M>() {
        if constexpr (HasVerb<M, E>) {
            ok = ok && check_member_literal<Pattern, verb_member<M, E>>();
        }
    });
    return ok;
}

template <class Object, class Member, class Handler, class... P>
decltype(auto) invoke_member(Member member, Object& object, CallContext& ctx, std::tuple<P...>*) {
    return std::invoke(member, object, resolve<P, Handler>(ctx)...);
}

template <class E>
class EndpointHandler final : public RouteHandler {
public:
    bool call_sync(CallContext& ctx, Response& out) override {
        bool done = true;
        auto call = [&]<auto Member>() { done = sync_member<Member>(ctx, out); };
        if (!dispatch(ctx.request.method(), call)) {
            out = Response::text("Method Not Allowed", Status::method_not_allowed);
        }
        return done;
    }

    /// Not a coroutine itself: the member's own coroutine, or a task that completes at once.
    Task<void> call_async(CallContext& ctx, Response& out) override {
        Task<void> task;
        auto call = [&]<auto Member>() {
            if constexpr (member_is_async<Member>) {
                task = async_member<Member>(ctx, out);
            }
        };
        dispatch(ctx.request.method(), call);
        if (!task.valid()) {
            return completed_task();
        }
        return task;
    }

    static Requirements requirements() {
        Requirements out;
        for_each_verb([&]<Method M>() {
            if constexpr (HasVerb<M, E>) {
                append<verb_member<M, E>>(out);
            }
        });
        return out;
    }

private:
    /// Calls `f.template operator()<Member>()` with E's member that serves `method`; false
    /// when E does not serve it. Each verb is one comparison of `method`, and those E lacks
    /// are dropped at compile time.
    template <class F>
    static bool dispatch(Method method, F f) {
        return find_verb([&]<Method M>() {
            if constexpr (constexpr Method by = served_by<M, E>(); by != Method::other) {
                if (method == M) {
                    f.template operator()<verb_member<by, E>>();
                    return true;
                }
            }
            return false;
        });
    }

    template <auto Member>
    static void append(Requirements& out) {
        using Args = typename CallableTraits<decltype(Member)>::args;
        out.append(RequirementsOf<Args>::collect());
    }

    template <auto Member>
    static bool sync_member(CallContext& ctx, Response& out) {
        if constexpr (member_is_async<Member>) {
            return false;
        } else {
            using Args = typename CallableTraits<decltype(Member)>::args;
            E endpoint{};
            endpoint.request_ = &ctx.request;
            out = to_response(invoke_member<E, decltype(Member), E>(Member, endpoint, ctx,
                                                                    static_cast<Args*>(nullptr)));
            return true;
        }
    }

    template <auto Member>
    static Task<void> async_member(CallContext& ctx, Response& out) {
        using Args = typename CallableTraits<decltype(Member)>::args;
        E endpoint{};
        endpoint.request_ = &ctx.request;
        auto task = invoke_member<E, decltype(Member), E>(Member, endpoint, ctx,
                                                          static_cast<Args*>(nullptr));
        auto result = co_await std::move(task);
        out = to_response(std::move(result));
    }
};

}  // namespace flamecpp::detail
