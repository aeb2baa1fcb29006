#include "app/pipeline.hpp"

#include <stdexcept>
#include <utility>

#include "app/components.hpp"

namespace flamecpp {

Task<Response> Next::operator()() const { return pipeline_->call(index_); }

namespace detail {

Task<Response> Pipeline::call(std::size_t index) {
    const std::size_t own = middleware_.size();
    auto at = [&](std::size_t i) -> const Middleware& {
        return i < own ? middleware_[i] : *mounted_[i - own];
    };
    if (index != 0 && index <= reached_) {
        throw std::logic_error("flamecpp: a middleware awaited next() twice (" +
                               at(index - 1).name + ")");
    }
    reached_ = index;
    if (index == own + mounted_.size()) {
        return end_.respond();
    }
    return call_middleware(at(index), index);
}

Task<Response> Pipeline::call_middleware(const Middleware& middleware, std::size_t index) {
    CallContext ctx = ctx_;
    const Next next(*this, index + 1);
    ctx.next = &next;
    if (middleware.needs_components && !prepare_components_now(ctx, middleware.components)) {
        co_await prepare_components(ctx, middleware.components);
    }
    Response out;
    if (!middleware.handler->call_sync(ctx, out)) {
        co_await middleware.handler->call_async(ctx, out);
    }
    co_return out;
}

void validate_middleware(std::vector<Middleware>& middleware,
                         const std::vector<ComponentSlot>& slots) {
    for (auto& m : middleware) {
        m.needs_components = validate_needs(m.components, slots, m.name).any_factory;
    }
}

}  // namespace detail
}  // namespace flamecpp
