#pragma once

/// @file
/// Exception handlers (App::exception_handler): a handler whose parameter of the exception's
/// type receives the exception, every other parameter injected.

#include <concepts>
#include <exception>
#include <tuple>
#include <type_traits>
#include <typeinfo>

#include <flamecpp/detail/handler.hpp>
#include <flamecpp/detail/inject.hpp>
#include <flamecpp/http_exception.hpp>

namespace flamecpp::detail {

/// How the library recognizes an exception type T it cannot name: `match` gives the thrown
/// object when it is a T (or derives from T); `pointer` and `catches_pointer` order two
/// types (a thrown `const A*` is caught as `const B*` exactly when A derives from B), so
/// that the most derived registered type wins.
struct ExceptionType {
    const void* (*match)(const std::exception_ptr& error) noexcept = nullptr;
    std::exception_ptr (*pointer)() noexcept = nullptr;
    bool (*catches_pointer)(const std::exception_ptr& pointer) noexcept = nullptr;
    const std::type_info* type = nullptr;
};

template <class T>
const void* match_exception(const std::exception_ptr& error) noexcept {
    try {
        std::rethrow_exception(error);
    } catch (const T& object) {
        return &object;  // the exception object itself, alive as long as `error`
    } catch (...) {
        return nullptr;
    }
}

template <class T>
std::exception_ptr exception_pointer() noexcept {
    return std::make_exception_ptr(static_cast<const T*>(nullptr));
}

template <class T>
bool catches_exception_pointer(const std::exception_ptr& pointer) noexcept {
    try {
        std::rethrow_exception(pointer);
    } catch (const T*) {
        return true;
    } catch (...) {
        return false;
    }
}

template <class T>
inline constexpr ExceptionType exception_type{&match_exception<T>, &exception_pointer<T>,
                                              &catches_exception_pointer<T>, &typeid(T)};

/// True for a parameter that receives the exception of type T.
template <class P, class T>
concept ExceptionParameter = std::same_as<std::remove_cvref_t<P>, T> &&
    (!std::is_reference_v<P> || std::is_const_v<std::remove_reference_t<P>>);

/// An exception handler's arguments: the exception for its parameter of type T, the
/// injector for the others.
template <class T>
struct ExceptionArguments {
    template <class P>
    static decltype(auto) get(CallContext& ctx) {
        if constexpr (ExceptionParameter<P, T>) {
            return *static_cast<const T*>(ctx.exception);
        } else {
            return resolve<P>(ctx);
        }
    }
};

template <class T, class Tuple>
struct InjectedOf;
template <class T, class... P>
struct InjectedOf<T, std::tuple<P...>> {
    /// The parameters the injector provides: all but the exception's.
    using type = decltype(std::tuple_cat(
        std::declval<
            std::conditional_t<ExceptionParameter<P, T>, std::tuple<>, std::tuple<P>>>()...));
};

/// Compile-time checks of an exception handler for T, at the user's `exception_handler()`.
template <class T, class F>
constexpr bool check_exception_handler() {
    static_assert(std::is_class_v<T>,
                  "flamecpp: exception_handler<T>() takes a class type T: the type a handler "
                  "throws (derived from std::exception, or any class).");
    static_assert(HasKnownSignature<F>,
                  "flamecpp: the exception handler's signature cannot be read. Pass a "
                  "function, a non-generic lambda or a function object with one operator().");
    if constexpr (HasKnownSignature<F>) {
        using Traits = CallableTraits<std::decay_t<F>>;
        using Injected = typename InjectedOf<T, typename Traits::args>::type;
        using Result = typename TaskResult<typename Traits::result>::type;
        return ParametersCheck<F, Injected>::value && check_result<Result, F>();
    } else {
        return false;
    }
}

/// An exception handler, type-erased as a route handler: `ctx.exception` points at the T.
template <class T, class F>
using ExceptionHandler = FunctionHandler<F, ExceptionArguments<T>>;

/// A WebSocket exception handler, type-erased: it chooses the close code.
class CloseChooser {
public:
    virtual ~CloseChooser() = default;
    /// Resolves the parameters from `ctx` (`ctx.exception` points at the exception) and calls
    /// the handler.
    virtual Task<WebSocketClose> choose(CallContext& ctx) = 0;
};

/// The task of a WebSocket exception handler that is not a coroutine: its choice, ready.
Task<WebSocketClose> ready_close(WebSocketClose close);

template <class T, class F>
class WebSocketExceptionHandler final : public CloseChooser {
    using Traits = CallableTraits<F>;
    using Args = typename Traits::args;

public:
    explicit WebSocketExceptionHandler(F f) : f_(std::move(f)) {}

    Task<WebSocketClose> choose(CallContext& ctx) override {
        if constexpr (TaskResult<typename Traits::result>::is_task) {
            return invoke_with<ExceptionArguments<T>>(f_, ctx, static_cast<Args*>(nullptr));
        } else {
            return ready_close(
                invoke_with<ExceptionArguments<T>>(f_, ctx, static_cast<Args*>(nullptr)));
        }
    }

    static Requirements requirements() noexcept {
        return RequirementsOf<typename InjectedOf<T, Args>::type>::value;
    }

private:
    F f_;
};

/// Compile-time checks of a WebSocket exception handler for T.
template <class T, class F>
constexpr bool check_websocket_exception_handler() {
    static_assert(std::is_class_v<T>,
                  "flamecpp: websocket_exception_handler<T>() takes a class type T: the type a "
                  "WebSocket handler throws.");
    static_assert(HasKnownSignature<F>,
                  "flamecpp: the exception handler's signature cannot be read. Pass a "
                  "function, a non-generic lambda or a function object with one operator().");
    if constexpr (HasKnownSignature<F>) {
        using Traits = CallableTraits<std::decay_t<F>>;
        using Injected = typename InjectedOf<T, typename Traits::args>::type;
        using Result = typename TaskResult<typename Traits::result>::type;
        static_assert(std::is_same_v<Result, WebSocketClose>,
                      "flamecpp: a WebSocket exception handler returns flamecpp::WebSocketClose "
                      "(or Task<WebSocketClose>): the close code and reason (see 'F = ...' "
                      "above).");
        return ParametersCheck<F, Injected, Caller::websocket>::value &&
               std::is_same_v<Result, WebSocketClose>;
    } else {
        return false;
    }
}

}  // namespace flamecpp::detail
