#pragma once

/// @file
/// Lifespan hooks (App::on_startup, App::on_shutdown): functions run once when the server
/// starts or stops, with the app and its components injected.

#include <concepts>
#include <tuple>
#include <type_traits>

#include <flamecpp/detail/callable.hpp>
#include <flamecpp/detail/handler.hpp>
#include <flamecpp/detail/inject.hpp>

namespace flamecpp::detail {

/// What a lifespan hook may take: there is no request, so only the app and its components.
template <class P>
concept LifespanParameter =
    std::same_as<InjectorKey<P>, App&> || std::same_as<InjectorKey<P>, App> ||
    ComponentType<std::remove_cvref_t<P>>;

template <class P, class Hook>
constexpr bool check_hook_parameter() {
    static_assert(LifespanParameter<P>,
                  "flamecpp: a startup or shutdown hook takes App& and components only (see "
                  "'P = ...' above): it runs once, outside any request, so there is no "
                  "Request, path, query, header, cookie or body to inject.");
    return LifespanParameter<P>;
}

template <class Hook, class Tuple>
struct HookParametersCheck;
template <class Hook, class... P>
struct HookParametersCheck<Hook, std::tuple<P...>> {
    static constexpr bool value = (check_hook_parameter<P, Hook>() && ... && true);
};

/// Compile-time checks of a lifespan hook, at the user's on_startup/on_shutdown call.
template <class F>
constexpr bool check_lifespan_hook() {
    static_assert(HasKnownSignature<F>,
                  "flamecpp: the hook's signature cannot be read. Pass a function, a "
                  "non-generic lambda or a function object with one operator() (no auto "
                  "parameters, no overloads).");
    if constexpr (HasKnownSignature<F>) {
        using Traits = CallableTraits<std::decay_t<F>>;
        using Result = typename TaskResult<typename Traits::result>::type;
        static_assert(std::is_void_v<Result>,
                      "flamecpp: a startup or shutdown hook returns void or Task<void> (see "
                      "'F = ...' above); to fail, throw.");
        return std::is_void_v<Result> && HookParametersCheck<F, typename Traits::args>::value;
    } else {
        return false;
    }
}

/// A hook as a RouteHandler: the server calls it like a handler; the answer is not used.
template <class F>
class HookHandler final : public RouteHandler {
    using Traits = CallableTraits<F>;
    using Args = typename Traits::args;
    static constexpr bool is_async = TaskResult<typename Traits::result>::is_task;

public:
    explicit HookHandler(F f) : f_(std::move(f)) {}

    bool call_sync(CallContext& ctx, Response&) override {
        if constexpr (is_async) {
            return false;
        } else {
            invoke_injected(f_, ctx, static_cast<Args*>(nullptr));
            return true;
        }
    }

    Task<void> call_async(CallContext& ctx, Response&) override {
        if constexpr (is_async) {
            return invoke_injected(f_, ctx, static_cast<Args*>(nullptr));
        } else {
            return completed_task();
        }
    }

    static Requirements requirements() noexcept { return RequirementsOf<Args>::value; }

private:
    F f_;
};

}  // namespace flamecpp::detail
