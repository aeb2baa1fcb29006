#include "server/lifespan.hpp"

#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include <boost/asio/co_spawn.hpp>
#include <spdlog/logger.h>

#include <flamecpp/request.hpp>

#include "app/app_impl.hpp"
#include "app/components.hpp"
#include "log.hpp"

namespace flamecpp::detail {

namespace asio = boost::asio;

namespace {

asio::awaitable<void> run_hook(App& app, const Hook& hook) {
    Request none;  // hooks take no request parameter (checked at compile time)
    CallContext ctx(none);
    ctx.app = &app;
    ComponentScope scope(app.impl().components);
    ctx.components = &scope;
    if (!prepare_components_now(ctx, hook.components)) {
        co_await prepare_components(ctx, hook.components);
    }
    Response unused;
    if (!hook.handler->call_sync(ctx, unused)) {
        co_await hook.handler->call_async(ctx, unused);
    }
}

/// Runs one hook on `io` until it ends or `deadline` passes; nullopt when it overran, else
/// its exception (or none).
std::optional<std::exception_ptr> run_to_end(App& app,
                                             const Hook& hook,
                                             asio::io_context& io,
                                             std::chrono::steady_clock::time_point deadline) {
    // Shared with the completion: a hook that overran may still end later, while the next
    // hook runs on the same loop, after this frame is gone.
    struct Outcome {
        bool done = false;
        std::exception_ptr error;
    };
    auto outcome = std::make_shared<Outcome>();
    io.restart();
    asio::co_spawn(io, run_hook(app, hook), [outcome](std::exception_ptr e) {
        outcome->error = std::move(e);
        outcome->done = true;
    });
    while (!outcome->done) {
        if (io.run_one_until(deadline) == 0 && !outcome->done &&
            (std::chrono::steady_clock::now() >= deadline || io.stopped())) {
            return std::nullopt;
        }
    }
    // The loop stops itself when it runs out of work: ready it for its thread's run().
    io.restart();
    return outcome->error;
}

std::string message_of(const std::exception_ptr& error) {
    try {
        std::rethrow_exception(error);
    } catch (const std::exception& e) {
        return e.what();
    } catch (...) {
        return "an exception not derived from std::exception";
    }
}

}  // namespace

void run_startup_hooks(App& app, asio::io_context& io) {
    auto& impl = app.impl();
    for (const auto& hook : impl.startup_hooks) {
        // Components registered by the hooks before this one count.
        try {
            validate_needs(hook.components, impl.components, hook.name);
        } catch (const std::exception& e) {
            throw std::runtime_error(e.what());
        }
        auto result = run_to_end(app, hook, io, std::chrono::steady_clock::time_point::max());
        if (!result) {
            throw std::runtime_error(hook.name + " never finished");
        }
        if (*result) {
            throw std::runtime_error(hook.name + " failed: " + message_of(*result));
        }
        logger().debug("{} done", hook.name);
    }
}

bool run_shutdown_hooks(App& app, asio::io_context& io, std::chrono::milliseconds bound) {
    auto& impl = app.impl();
    bool all_ok = true;
    for (std::size_t i = impl.shutdown_hooks.size(); i-- > 0;) {
        const Hook& hook = impl.shutdown_hooks[i];
        try {
            validate_needs(hook.components, impl.components, hook.name);
            auto result = run_to_end(app, hook, io, std::chrono::steady_clock::now() + bound);
            if (!result) {
                logger().error("{} did not finish within {} ms", hook.name, bound.count());
                all_ok = false;
            } else if (*result) {
                logger().error("{} failed: {}", hook.name, message_of(*result));
                all_ok = false;
            }
        } catch (const std::exception& e) {
            logger().error("{}: {}", hook.name, e.what());
            all_ok = false;
        }
    }
    return all_ok;
}

}  // namespace flamecpp::detail
