#include "app/pipeline.hpp"

#include <stdexcept>
#include <utility>

#include "app/components.hpp"

namespace flamecpp {

Task<Response> Next::operator()() const {
    if (pipeline_ == nullptr) {
        throw std::logic_error("flamecpp: this Next belongs to no pipeline");
    }
    return pipeline_->call(index_);
}

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
    const Middleware& middleware = at(index);
    Next& next = next_for(index);
    next = Next(*this, index + 1);
    CallContext ctx = ctx_;
    ctx.next = &next;
    if (middleware.needs_components && !prepare_components_now(ctx, middleware.components)) {
        return call_with_components(middleware, next);
    }
    // The middleware's own task, with no frame of ours around it: its parameters are bound
    // by the time call() returns, so `ctx` may go.
    return middleware.handler->call(ctx);
}

Task<Response> Pipeline::call_with_components(const Middleware& middleware, const Next& next) {
    CallContext ctx = ctx_;
    ctx.next = &next;
    co_await prepare_components(ctx, middleware.components);
    co_return co_await middleware.handler->call(ctx);
}

void validate_middleware(std::vector<Middleware>& middleware,
                         const std::vector<ComponentSlot>& slots) {
    for (auto& m : middleware) {
        m.needs_components = validate_needs(m.components, slots, m.name).any_factory;
    }
}

}  // namespace detail
}  // namespace flamecpp
