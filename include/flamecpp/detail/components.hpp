#pragma once

/// @file
/// App components: each component type gets a small index once per process, so finding a
/// component during a request is a vector access, not a lookup by name or type.

#include <cstddef>
#include <memory>
#include <span>
#include <stdexcept>
#include <typeinfo>
#include <vector>

#include <flamecpp/task.hpp>

namespace flamecpp::detail {

struct CallContext;
struct Requirement;

/// A fresh index per call; `component_id<T>()` calls it once per type.
std::size_t next_component_id() noexcept;

template <class T>
std::size_t component_id() noexcept {
    static const std::size_t id = next_component_id();
    return id;
}

/// A component a handler (or another component's factory) needs.
struct ComponentRequirement {
    std::size_t id;
    const std::type_info* type;
};

/// Makes a per-request component; wraps the user's factory (see App::component).
class ComponentFactory {
public:
    virtual ~ComponentFactory() = default;
    virtual bool is_async() const noexcept = 0;
    virtual std::shared_ptr<void> make(CallContext& ctx) = 0;
    virtual Task<std::shared_ptr<void>> make_async(CallContext& ctx) = 0;
    /// What the factory's parameters need (inject.hpp's Requirement records).
    virtual std::span<const Requirement> requirements() const noexcept = 0;
};

/// A component that works on the server's loops of its own (the broadcast hub's link to
/// Redis): told when a server starts with the app.
class ServerBound {
public:
    /// On the server's first loop (Worker::current() is its worker), after the startup hooks,
    /// before it listens. What it spawns there runs once the loop does, and is cancelled when
    /// that server's shutdown begins. Throwing fails the start.
    virtual void server_started() = 0;

protected:
    ServerBound() = default;
    ServerBound(const ServerBound&) = default;
    ServerBound& operator=(const ServerBound&) = default;
    ServerBound(ServerBound&&) = default;
    ServerBound& operator=(ServerBound&&) = default;
    virtual ~ServerBound() = default;
};

/// What the app registered for one component type.
struct ComponentSlot {
    const std::type_info* type = nullptr;
    std::shared_ptr<void> shared;                    ///< one instance for the app's lifetime
    std::unique_ptr<ComponentFactory> factory;       ///< or a value made per request
    std::vector<ComponentRequirement> dependencies;  ///< the components `factory` takes
    ServerBound* bound = nullptr;                    ///< `shared`, when it is ServerBound
    bool registered() const noexcept { return shared != nullptr || factory != nullptr; }
};

/// The components seen by one request (or one WebSocket connection): the app's slots plus the
/// values its factories made for this call.
class ComponentScope {
public:
    explicit ComponentScope(const std::vector<ComponentSlot>& slots) : slots_(&slots) {}

    void* get(std::size_t id) const {
        if (id < values_.size() && values_[id]) {
            return values_[id].get();
        }
        if (id < slots_->size() && (*slots_)[id].shared) {
            return (*slots_)[id].shared.get();
        }
        throw std::logic_error("flamecpp: a component was used before it was made");
    }
    bool has_value(std::size_t id) const noexcept { return id < values_.size() && values_[id]; }
    void set_value(std::size_t id, std::shared_ptr<void> value) {
        if (values_.size() <= id) {
            values_.resize(id + 1);
        }
        values_[id] = std::move(value);
        made_.push_back(id);
    }
    /// Drops the per-request values (after each request; the vectors keep their capacity).
    void clear() noexcept {
        for (std::size_t id : made_) {
            values_[id].reset();
        }
        made_.clear();
    }
    const std::vector<ComponentSlot>& slots() const noexcept { return *slots_; }

private:
    const std::vector<ComponentSlot>* slots_;
    std::vector<std::shared_ptr<void>> values_;
    std::vector<std::size_t> made_;
};

}  // namespace flamecpp::detail
