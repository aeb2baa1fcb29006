#pragma once

/// @file
/// The route thunk of a class-based HTTPEndpoint.

#include <array>
#include <concepts>
#include <cstddef>
#include <memory>
#include <tuple>
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
    template <class E> static constexpr auto doc_of() -> decltype(&E::get_doc) { return &E::get_doc; }
};
template <> struct Verb<Method::head> {
    template <class E> static constexpr auto of() -> decltype(&E::head) { return &E::head; }
    template <class E> static constexpr auto doc_of() -> decltype(&E::head_doc) { return &E::head_doc; }
};
template <> struct Verb<Method::post> {
    template <class E> static constexpr auto of() -> decltype(&E::post) { return &E::post; }
    template <class E> static constexpr auto doc_of() -> decltype(&E::post_doc) { return &E::post_doc; }
};
template <> struct Verb<Method::put> {
    template <class E> static constexpr auto of() -> decltype(&E::put) { return &E::put; }
    template <class E> static constexpr auto doc_of() -> decltype(&E::put_doc) { return &E::put_doc; }
};
template <> struct Verb<Method::patch> {
    template <class E> static constexpr auto of() -> decltype(&E::patch) { return &E::patch; }
    template <class E> static constexpr auto doc_of() -> decltype(&E::patch_doc) { return &E::patch_doc; }
};
template <> struct Verb<Method::delete_> {
    template <class E> static constexpr auto of() -> decltype(&E::delete_) { return &E::delete_; }
    template <class E> static constexpr auto doc_of() -> decltype(&E::delete_doc) { return &E::delete_doc; }
};
template <> struct Verb<Method::options> {
    template <class E> static constexpr auto of() -> decltype(&E::options) { return &E::options; }
    template <class E> static constexpr auto doc_of() -> decltype(&E::options_doc) { return &E::options_doc; }
};
// clang-format on

template <Method M, class E>
concept HasVerb = requires {
    Verb<M>::template of<E>();
};

/// E's member for verb M (only where HasVerb<M, E>).
template <Method M, class E>
inline constexpr auto verb_member = Verb<M>::template of<E>();

/// The parameter types of E's member for verb M; none when E has no such member.
template <Method M, class E>
struct MemberArgs {
    using type = std::tuple<>;
};
template <Method M, class E>
    requires HasVerb<M, E>
struct MemberArgs<M, E> {
    using type = typename CallableTraits<decltype(Verb<M>::template of<E>())>::args;
};

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

/// Calls `member` on `object` with every parameter resolved by the injector.
template <class Object, class Member, class... P>
decltype(auto) invoke_member(Member member, Object& object, CallContext& ctx, std::tuple<P...>*) {
    return (object.*member)(resolve<P>(ctx)...);
}

/// One served verb of an endpoint class, type-erased: `call` runs a plain member into `out`;
/// `start` returns the task of a coroutine member. One of the two is set.
struct EndpointMember {
    void (*call)(CallContext& ctx, Response& out) = nullptr;
    Task<void> (*start)(CallContext& ctx, Response& out) = nullptr;
    BodyUse body_use = BodyUse::none;
};

/// The members serving each verb, indexed by the verb's Method value; none where E does not
/// serve it. Built at compile time.
using EndpointTable = std::array<EndpointMember, http_verbs.size()>;

/// Calls endpoint members on a fresh instance of E (HTTPEndpoint befriends this: E{} may
/// need its protected constructor).
struct EndpointAccess {
    template <class E, auto Member>
    static void call(CallContext& ctx, Response& out) {
        using Args = typename CallableTraits<decltype(Member)>::args;
        E endpoint{};
        endpoint.request_ = &ctx.request;
        out = to_response(invoke_member(Member, endpoint, ctx, static_cast<Args*>(nullptr)));
    }

    template <class E, auto Member>
    static Task<void> start(CallContext& ctx, Response& out) {
        using Args = typename CallableTraits<decltype(Member)>::args;
        E endpoint{};
        endpoint.request_ = &ctx.request;
        auto task = invoke_member(Member, endpoint, ctx, static_cast<Args*>(nullptr));
        auto result = co_await std::move(task);
        out = to_response(std::move(result));
    }
};

/// The library's route handler of every HTTPEndpoint class (src/app/app.cpp): the class's
/// table, indexed by the request's method.
std::unique_ptr<RouteHandler> endpoint_handler(const EndpointTable& table);

template <class E>
inline constexpr EndpointTable endpoint_table = [] {
    EndpointTable table{};
    for_each_verb([&]<Method M>() {
        if constexpr (constexpr Method by = served_by<M, E>(); by != Method::other) {
            constexpr auto member = verb_member<by, E>;
            auto& entry = table[static_cast<std::size_t>(M)];
            entry.body_use = BodyUseOf<typename MemberArgs<by, E>::type>::value;
            if constexpr (member_is_async<member>) {
                entry.start = &EndpointAccess::start<E, member>;
            } else {
                entry.call = &EndpointAccess::call<E, member>;
            }
        }
    });
    return table;
}();

/// The Operation E declares for verb M (`static inline const flamecpp::Operation get_doc`),
/// or nullptr.
template <Method M, class E>
constexpr const Operation* verb_doc() {
    if constexpr (requires { Verb<M>::template doc_of<E>(); }) {
        static_assert(
            std::same_as<decltype(Verb<M>::template doc_of<E>()), const Operation*>,
            "flamecpp: an HTTPEndpoint's get_doc, post_doc, ... is a static member of type "
            "`const flamecpp::Operation` (static inline const flamecpp::Operation get_doc{...}).");
        return Verb<M>::template doc_of<E>();
    } else {
        return nullptr;
    }
}

/// The operations of E for the schema: one per verb E has a member for (HEAD served by GET
/// is not listed).
template <class E>
struct EndpointDocs {
    static constexpr std::size_t size = [] {
        std::size_t n = 0;
        for_each_verb([&]<Method M>() {
            if constexpr (HasVerb<M, E>) {
                ++n;
            }
        });
        return n;
    }();
    static constexpr std::array<OperationDoc, size> value = [] {
        std::array<OperationDoc, size> out{};
        std::size_t i = 0;
        for_each_verb([&]<Method M>() {
            if constexpr (HasVerb<M, E>) {
                using Traits = CallableTraits<std::remove_cv_t<decltype(verb_member<M, E>)>>;
                using Result = typename TaskResult<typename Traits::result>::type;
                out[i] = OperationDocOf<typename Traits::args, Result, M>::value;
                out[i].info = verb_doc<M, E>();
                ++i;
            }
        });
        return out;
    }();
    /// As a span made at compile time (no constructor call in the caller's code).
    static constexpr OperationDocs docs{value};
};

/// The requirements of every member of E.
template <class E>
struct EndpointRequirements {
    template <std::size_t... I>
    static constexpr auto join(std::index_sequence<I...>) {
        return JoinedRequirements<typename MemberArgs<http_verbs[I], E>::type...>{};
    }
    using Joined = decltype(join(std::make_index_sequence<http_verbs.size()>{}));
};

}  // namespace flamecpp::detail
