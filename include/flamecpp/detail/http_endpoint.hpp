#pragma once

/// @file
/// The route thunk of a class-based HTTPEndpoint.

#include <concepts>
#include <type_traits>

#include <flamecpp/detail/handler.hpp>
#include <flamecpp/detail/route_literal.hpp>
#include <flamecpp/endpoints.hpp>

namespace flamecpp::detail {

// clang-format off
template <class E> concept HasGet = requires { &E::get; };
template <class E> concept HasHead = requires { &E::head; };
template <class E> concept HasPost = requires { &E::post; };
template <class E> concept HasPut = requires { &E::put; };
template <class E> concept HasPatch = requires { &E::patch; };
template <class E> concept HasDelete = requires { &E::delete_; };
template <class E> concept HasOptions = requires { &E::options; };
// clang-format on

/// The methods an endpoint class serves, known at compile time. HEAD comes with GET.
template <class E>
constexpr MethodSet endpoint_methods() {
    MethodSet set;
    if constexpr (HasGet<E>) {
        set.insert(Method::get);
        set.insert(Method::head);
    }
    if constexpr (HasHead<E>) {
        set.insert(Method::head);
    }
    if constexpr (HasPost<E>) {
        set.insert(Method::post);
    }
    if constexpr (HasPut<E>) {
        set.insert(Method::put);
    }
    if constexpr (HasPatch<E>) {
        set.insert(Method::patch);
    }
    if constexpr (HasDelete<E>) {
        set.insert(Method::delete_);
    }
    if constexpr (HasOptions<E>) {
        set.insert(Method::options);
    }
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
    if constexpr (HasGet<E>)
        ok = ok && check_member<&E::get, E>();
    if constexpr (HasHead<E>)
        ok = ok && check_member<&E::head, E>();
    if constexpr (HasPost<E>)
        ok = ok && check_member<&E::post, E>();
    if constexpr (HasPut<E>)
        ok = ok && check_member<&E::put, E>();
    if constexpr (HasPatch<E>)
        ok = ok && check_member<&E::patch, E>();
    if constexpr (HasDelete<E>)
        ok = ok && check_member<&E::delete_, E>();
    if constexpr (HasOptions<E>)
        ok = ok && check_member<&E::options, E>();
    return ok;
}

template <FixedString Pattern, class E>
constexpr bool check_endpoint_literal() {
    bool ok = true;
    if constexpr (HasGet<E>)
        ok = ok && check_member_literal<Pattern, &E::get>();
    if constexpr (HasHead<E>)
        ok = ok && check_member_literal<Pattern, &E::head>();
    if constexpr (HasPost<E>)
        ok = ok && check_member_literal<Pattern, &E::post>();
    if constexpr (HasPut<E>)
        ok = ok && check_member_literal<Pattern, &E::put>();
    if constexpr (HasPatch<E>)
        ok = ok && check_member_literal<Pattern, &E::patch>();
    if constexpr (HasDelete<E>)
        ok = ok && check_member_literal<Pattern, &E::delete_>();
    if constexpr (HasOptions<E>)
        ok = ok && check_member_literal<Pattern, &E::options>();
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
        switch (ctx.request.method()) {
            case Method::get:
                if constexpr (HasGet<E>)
                    return sync_member<&E::get>(ctx, out);
                break;
            case Method::head:
                if constexpr (HasHead<E>) {
                    return sync_member<&E::head>(ctx, out);
                } else if constexpr (HasGet<E>) {
                    return sync_member<&E::get>(ctx, out);
                }
                break;
            case Method::post:
                if constexpr (HasPost<E>)
                    return sync_member<&E::post>(ctx, out);
                break;
            case Method::put:
                if constexpr (HasPut<E>)
                    return sync_member<&E::put>(ctx, out);
                break;
            case Method::patch:
                if constexpr (HasPatch<E>)
                    return sync_member<&E::patch>(ctx, out);
                break;
            case Method::delete_:
                if constexpr (HasDelete<E>)
                    return sync_member<&E::delete_>(ctx, out);
                break;
            case Method::options:
                if constexpr (HasOptions<E>)
                    return sync_member<&E::options>(ctx, out);
                break;
            case Method::other:
                break;
        }
        out = Response::text("Method Not Allowed", Status::method_not_allowed);
        return true;
    }

    Task<void> call_async(CallContext& ctx, Response& out) override {
        switch (ctx.request.method()) {
            case Method::get:
                if constexpr (HasGet<E>)
                    co_await async_member<&E::get>(ctx, out);
                break;
            case Method::head:
                if constexpr (HasHead<E>) {
                    co_await async_member<&E::head>(ctx, out);
                } else if constexpr (HasGet<E>) {
                    co_await async_member<&E::get>(ctx, out);
                }
                break;
            case Method::post:
                if constexpr (HasPost<E>)
                    co_await async_member<&E::post>(ctx, out);
                break;
            case Method::put:
                if constexpr (HasPut<E>)
                    co_await async_member<&E::put>(ctx, out);
                break;
            case Method::patch:
                if constexpr (HasPatch<E>)
                    co_await async_member<&E::patch>(ctx, out);
                break;
            case Method::delete_:
                if constexpr (HasDelete<E>)
                    co_await async_member<&E::delete_>(ctx, out);
                break;
            case Method::options:
                if constexpr (HasOptions<E>)
                    co_await async_member<&E::options>(ctx, out);
                break;
            case Method::other:
                break;
        }
    }

    static Requirements requirements() {
        Requirements out;
        if constexpr (HasGet<E>)
            append<&E::get>(out);
        if constexpr (HasHead<E>)
            append<&E::head>(out);
        if constexpr (HasPost<E>)
            append<&E::post>(out);
        if constexpr (HasPut<E>)
            append<&E::put>(out);
        if constexpr (HasPatch<E>)
            append<&E::patch>(out);
        if constexpr (HasDelete<E>)
            append<&E::delete_>(out);
        if constexpr (HasOptions<E>)
            append<&E::options>(out);
        return out;
    }

private:
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
        if constexpr (member_is_async<Member>) {
            using Args = typename CallableTraits<decltype(Member)>::args;
            E endpoint{};
            endpoint.request_ = &ctx.request;
            auto task = invoke_member<E, decltype(Member), E>(Member, endpoint, ctx,
                                                              static_cast<Args*>(nullptr));
            auto result = co_await std::move(task);
            out = to_response(std::move(result));
        }
        co_return;
    }
};

}  // namespace flamecpp::detail
