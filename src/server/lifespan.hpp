#pragma once

#include <chrono>
#include <vector>

#include <boost/asio/io_context.hpp>

#include <flamecpp/app.hpp>

#include "app/lifespan.hpp"

namespace flamecpp::detail {

/// Runs the startup hooks in order on `io` (the first worker's loop, before its thread runs
/// it), each to completion; work a hook leaves behind (a task it spawned) stays queued for the
/// loop. Throws std::runtime_error naming the first hook that fails and why (a component it
/// takes not registered by then, or its exception); the hooks after it do not run.
void run_startup_hooks(App& app, boost::asio::io_context& io);

/// Runs the shutdown hooks in reverse order on `io` (a loop no thread runs any more), each
/// bounded by `bound`. A hook that throws or overruns is logged and the next one runs.
/// Returns false when any did.
bool run_shutdown_hooks(App& app, boost::asio::io_context& io, std::chrono::milliseconds bound);

}  // namespace flamecpp::detail
