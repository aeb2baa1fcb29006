#pragma once

/// @file
/// Tasks the server owns: started by a handler, outliving it, ended by the shutdown.

#include <flamecpp/task.hpp>

namespace flamecpp {

/// Starts `task` on the calling server thread as a task the server owns, and returns at once.
/// Use it instead of `co_spawn(..., detached)` for work that outlives the handler that starts
/// it (a broadcast to many WebSockets, a job after the answer went out):
///
/// - the server tracks it: a graceful shutdown cancels it (what it awaits ends with
///   `boost::asio::error::operation_aborted`, thrown as `boost::system::system_error`) and
///   waits for it to end, within `Limits::shutdown_grace`; a task started while the shutdown
///   runs is cancelled at once;
/// - an exception it lets escape is logged once (a cancellation by the shutdown only at debug
///   level) and handed to `ServerOptions::on_handler_error`; the server goes on.
///
/// Call it from a handler, a component factory or another task: it throws std::logic_error on
/// a thread that does not run a server loop. The task runs on that thread, like the handler.
///
/// @code
/// flamecpp::Task<void> notify(std::vector<flamecpp::WebSocket> clients, std::string text);
///
/// flamecpp::Response publish(flamecpp::Body<Post> post, Clients& clients) {
///     flamecpp::spawn(notify(clients.all(), post->text));  // the answer does not wait
///     return flamecpp::Response::empty(flamecpp::Status::accepted);
/// }
/// @endcode
void spawn(Task<void> task);

}  // namespace flamecpp
