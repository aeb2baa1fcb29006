#pragma once

/// @file
/// The per-request factory of a component: a function (plain or coroutine) whose own
/// parameters are injected, so components can depend on the request and on each other.

#include <memory>
#include <stdexcept>
#include <type_traits>

#include <flamecpp/detail/handler.hpp>

namespace flamecpp::detail {

template <class T, class F>
constexpr bool check_component_factory() {
    static_assert(HasKnownSignature<F>,
                  "flamecpp: a component factory's signature cannot be read. Pass a function, "
                  "a non-generic lambda or a function object with one operator().");
    if constexpr (HasKnownSignature<F>) {
        using Traits = CallableTraits<std::decay_t<F>>;
        using Result = typename TaskResult<typename Traits::result>::type;
        static_assert(std::is_convertible_v<Result, T>,
                      "flamecpp: a factory registered with app.component<T>(factory) returns T "
                      "or Task<T> (see 'T = ...' and 'F = ...' above).");
        return ParametersCheck<F, typename Traits::args>::value && std::is_convertible_v<Result, T>;
    } else {
        return false;
    }
}

template <class T, class F>
class FactoryComponent final : public ComponentFactory {
    using Traits = CallableTraits<F>;
    using Args = typename Traits::args;
    static constexpr bool async = TaskResult<typename Traits::result>::is_task;

public:
    explicit FactoryComponent(F f) : f_(std::move(f)) {}

    bool is_async() const noexcept override { return async; }

    std::shared_ptr<void> make(CallContext& ctx) override {
        if constexpr (async) {
            throw std::logic_error("flamecpp: a coroutine factory must be awaited");
        } else {
            return std::make_shared<T>(invoke_injected(f_, ctx, static_cast<Args*>(nullptr)));
        }
    }

    Task<std::shared_ptr<void>> make_async(CallContext& ctx) override {
        if constexpr (async) {
            return make_from_task(invoke_injected(f_, ctx, static_cast<Args*>(nullptr)));
        } else {
            throw std::logic_error("flamecpp: a plain factory is not awaited");
        }
    }

    Requirements requirements() const noexcept override { return RequirementsOf<Args>::value; }

private:
    /// The component made from the value of the factory's task.
    template <class R>
    static Task<std::shared_ptr<void>> make_from_task(Task<R> task) {
        co_return std::make_shared<T>(co_await std::move(task));
    }

    F f_;
};

}  // namespace flamecpp::detail
