#include "app/components.hpp"

#include <atomic>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>

#include <cxxabi.h>

namespace flamecpp::detail {

std::size_t next_component_id() noexcept {
    static std::atomic<std::size_t> next{0};
    return next++;
}

std::string type_name(const std::type_info* type) {
    int status = 0;
    std::unique_ptr<char, void (*)(void*)> name(
        abi::__cxa_demangle(type->name(), nullptr, nullptr, &status), std::free);
    return status == 0 && name ? std::string(name.get()) : std::string(type->name());
}

namespace {

const ComponentSlot* find_slot(const std::vector<ComponentSlot>& slots, std::size_t id) {
    return id < slots.size() && slots[id].registered() ? &slots[id] : nullptr;
}

enum class Mark { none, visiting, done };

/// Depth-first over factory dependencies: registered, acyclic; reports whether any factory
/// (and any coroutine factory) is involved.
void visit(const std::vector<ComponentSlot>& slots,
           const ComponentRequirement& need,
           std::vector<Mark>& marks,
           const std::string& user,
           bool& any_factory,
           bool& any_async) {
    const ComponentSlot* slot = find_slot(slots, need.id);
    if (slot == nullptr) {
        throw std::invalid_argument("flamecpp: " + user + " needs the component " +
                                    type_name(need.type) +
                                    ", which the app does not register: call app.component<" +
                                    type_name(need.type) + ">(...) before run()");
    }
    if (!slot->factory) {
        return;
    }
    any_factory = true;
    any_async = any_async || slot->factory->is_async();
    if (marks.size() <= need.id) {
        marks.resize(need.id + 1, Mark::none);
    }
    if (marks[need.id] == Mark::done) {
        return;
    }
    if (marks[need.id] == Mark::visiting) {
        throw std::invalid_argument("flamecpp: the factories of component " + type_name(need.type) +
                                    " depend on each other in a cycle");
    }
    marks[need.id] = Mark::visiting;
    for (const auto& dependency : slot->dependencies) {
        visit(slots, dependency, marks, "the factory of component " + type_name(need.type),
              any_factory, any_async);
    }
    marks[need.id] = Mark::done;
}

bool prepare_one_now(CallContext& ctx, std::size_t id) {
    ComponentScope& scope = *ctx.components;
    const ComponentSlot& slot = scope.slots()[id];
    if (!slot.factory || scope.has_value(id)) {
        return true;
    }
    if (slot.factory->is_async()) {
        return false;
    }
    for (const auto& dependency : slot.dependencies) {
        if (!prepare_one_now(ctx, dependency.id)) {
            return false;
        }
    }
    scope.set_value(id, slot.factory->make(ctx));
    return true;
}

Task<void> prepare_one(CallContext& ctx, std::size_t id) {
    ComponentScope& scope = *ctx.components;
    const ComponentSlot& slot = scope.slots()[id];
    if (!slot.factory || scope.has_value(id)) {
        co_return;
    }
    for (const auto& dependency : slot.dependencies) {
        co_await prepare_one(ctx, dependency.id);
    }
    if (slot.factory->is_async()) {
        auto value = co_await slot.factory->make_async(ctx);
        scope.set_value(id, std::move(value));
    } else {
        scope.set_value(id, slot.factory->make(ctx));
    }
}

}  // namespace

ComponentNeeds validate_needs(const std::vector<ComponentRequirement>& needs,
                              const std::vector<ComponentSlot>& slots,
                              const std::string& user) {
    std::vector<Mark> marks;
    ComponentNeeds out;
    for (const auto& need : needs) {
        visit(slots, need, marks, user, out.any_factory, out.any_async);
    }
    return out;
}

void validate_components(std::vector<std::unique_ptr<Route>>& routes,
                         const std::vector<ComponentSlot>& slots) {
    std::vector<Mark> marks;
    for (auto& route : routes) {
        bool any_factory = false;
        bool any_async = false;
        for (const auto& need : route->components) {
            visit(slots, need, marks, "route '" + route->pattern + "'", any_factory, any_async);
        }
        route->needs_components = any_factory;
        route->async_components = any_async;
    }
}

bool prepare_components_now(CallContext& ctx, const std::vector<ComponentRequirement>& needs) {
    for (const auto& need : needs) {
        if (!prepare_one_now(ctx, need.id)) {
            return false;
        }
    }
    return true;
}

Task<void> prepare_components(CallContext& ctx, const std::vector<ComponentRequirement>& needs) {
    for (const auto& need : needs) {
        co_await prepare_one(ctx, need.id);
    }
}

}  // namespace flamecpp::detail
