#pragma once

/// @file
/// An app's own command-line flags (App::flag), parsed by App::run with the framework's.

#include <memory>

#include <flamecpp/detail/flags.hpp>

namespace flamecpp {

class App;

/// The value of a flag an app declared with App::flag: read it once App::run has parsed the
/// command line (in startup hooks, handlers, component factories); before, it holds the
/// default. Copies share the value.
template <class T>
class Flag {
public:
    /// The value: the command line's, else the environment's, else the default.
    const T& operator*() const noexcept { return *value_; }
    /// The value's members: `flag->size()`.
    const T* operator->() const noexcept { return value_.get(); }
    /// True when the command line or the environment gave the flag (not its default).
    bool given() const noexcept { return *given_; }

private:
    friend class App;
    Flag(std::shared_ptr<T> value, std::shared_ptr<bool> given)
        : value_(std::move(value)), given_(std::move(given)) {}

    std::shared_ptr<T> value_;
    std::shared_ptr<bool> given_;
};

}  // namespace flamecpp
