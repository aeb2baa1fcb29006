#pragma once

/// @file
/// Signature introspection of handlers: free functions, lambdas, member functions.

#include <tuple>
#include <type_traits>

#include <flamecpp/task.hpp>

namespace flamecpp::detail {

/// `result` and `args` of a callable whose signature can be read. For any other type (a
/// generic lambda, a function object with several operator(), something not callable) it has
/// no members, so HasKnownSignature is false and the caller's flamecpp: message comes first.
template <class F>
struct CallableTraits {};

template <class F>
    requires requires { &F::operator(); }
struct CallableTraits<F> : CallableTraits<decltype(&F::operator())> {};

template <class R, class... A>
struct CallableTraits<R(A...)> {
    using result = R;
    using args = std::tuple<A...>;
};
template <class R, class... A>
struct CallableTraits<R (*)(A...)> : CallableTraits<R(A...)> {};
template <class R, class... A>
struct CallableTraits<R (*)(A...) noexcept> : CallableTraits<R(A...)> {};
template <class C, class R, class... A>
struct CallableTraits<R (C::*)(A...)> : CallableTraits<R(A...)> {};
template <class C, class R, class... A>
struct CallableTraits<R (C::*)(A...) const> : CallableTraits<R(A...)> {};
template <class C, class R, class... A>
struct CallableTraits<R (C::*)(A...) noexcept> : CallableTraits<R(A...)> {};
template <class C, class R, class... A>
struct CallableTraits<R (C::*)(A...) const noexcept> : CallableTraits<R(A...)> {};

/// True for callables whose signature can be read: not generic lambdas, not overload sets.
template <class F>
concept HasKnownSignature = requires {
    typename CallableTraits<std::decay_t<F>>::args;
};

template <class T>
struct TaskResult {
    static constexpr bool is_task = false;
    using type = T;
};
template <class T, class Executor>
struct TaskResult<boost::asio::awaitable<T, Executor>> {
    static constexpr bool is_task = true;
    using type = T;
};

}  // namespace flamecpp::detail
