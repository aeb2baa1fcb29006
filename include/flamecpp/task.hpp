#pragma once

/// @file
/// The coroutine type of every asynchronous handler.

#include <boost/asio/awaitable.hpp>

namespace flamecpp {

/// A coroutine returning `T`: an alias of `boost::asio::awaitable<T>`, not a new type.
///
/// @code
/// flamecpp::Task<std::string> hello(flamecpp::Request&) { co_return "Hello"; }
/// @endcode
template <class T = void>
using Task = boost::asio::awaitable<T>;

}  // namespace flamecpp
