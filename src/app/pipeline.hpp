#pragma once

// The middleware pipeline: the app's middleware in registration order, then the middleware
// of the mounts the request is under (outermost first), then the end (the route, or the
// app's own 404/405/OPTIONS answer) that the session supplies.

#include <array>
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <flamecpp/detail/components.hpp>
#include <flamecpp/detail/handler.hpp>
#include <flamecpp/detail/inject.hpp>
#include <flamecpp/middleware.hpp>
#include <flamecpp/response.hpp>

namespace flamecpp::detail {

/// One registered middleware.
struct Middleware {
    std::unique_ptr<MiddlewareHandler> handler;
    std::vector<ComponentRequirement> components;
    std::string name;               ///< "middleware #N", for errors and logs
    bool needs_components = false;  ///< set when the server starts
};

/// The innermost layer: what the request gets when every middleware passed it on.
class PipelineEnd {
public:
    virtual Task<Response> respond() = 0;

protected:
    ~PipelineEnd() = default;
};

/// One request's trip through the middleware. `ctx` gives the request, the app and the
/// components; each middleware gets a copy with its own `Next`.
class Pipeline {
public:
    Pipeline(const std::vector<Middleware>& middleware,
             std::span<const Middleware* const> mounted,
             const CallContext& ctx,
             PipelineEnd& end)
        : middleware_(middleware), mounted_(mounted), ctx_(ctx), end_(end) {
        const std::size_t layers = middleware.size() + mounted.size();
        if (layers > inline_nexts_.size()) {
            more_nexts_.assign(layers, Next(*this, 0));
        }
    }

    /// The answer, from the first middleware on.
    Task<Response> run() { return call(0); }

    /// What `Next` runs: middleware `index`, or the end past the last one.
    Task<Response> call(std::size_t index);

private:
    /// A middleware that takes a per-request component: made first, then the call.
    Task<Response> call_with_components(const Middleware& middleware, const Next& next);

    /// The Next that middleware `index` receives: it lives as long as the pipeline, so a
    /// middleware may take it by reference.
    Next& next_for(std::size_t index) noexcept {
        return more_nexts_.empty() ? inline_nexts_[index] : more_nexts_[index];
    }

    const std::vector<Middleware>& middleware_;
    std::span<const Middleware* const> mounted_;
    const CallContext& ctx_;
    PipelineEnd& end_;
    std::size_t reached_ = 0;  ///< the deepest layer entered so far
    std::array<Next, 8> inline_nexts_{};
    std::vector<Next> more_nexts_;  ///< for more than 8 layers
};

/// Checks, before the server listens, the components each middleware needs (as
/// validate_components does for routes).
void validate_middleware(std::vector<Middleware>& middleware,
                         const std::vector<ComponentSlot>& slots);

}  // namespace flamecpp::detail
