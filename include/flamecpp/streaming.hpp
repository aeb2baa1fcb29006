#pragma once

/// @file
/// Server-sent events (the WHATWG `text/event-stream` format): a producer coroutine sends
/// events to an EventSink while the client listens.

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <flamecpp/injection.hpp>
#include <flamecpp/response.hpp>
#include <flamecpp/task.hpp>

namespace flamecpp {

/// One event. Every field but `data` is optional; `data` may hold several lines (split on
/// CR LF, CR or LF, each sent as its own `data:` line, as the format asks).
struct ServerSentEvent {
    std::string data;   ///< the event's text (`event.data` in the browser); may be empty
    std::string event;  ///< the event type (`addEventListener(type)`); empty: "message"
    std::string id;     ///< sets the client's last event ID, sent back as `Last-Event-ID`
    std::optional<std::chrono::milliseconds> retry;  ///< the client's reconnection delay
};

/// The `Last-Event-ID` header a reconnecting EventSource sends: inject it to resume.
using LastEventId = Header<"Last-Event-ID", std::optional<std::string>>;

/// Where an event stream's producer sends its events. Each call goes out at once, as one
/// chunk, and waits while the client's socket is full: a slow client slows its producer down
/// instead of filling the server's memory. When the client has gone, the call throws (or the
/// producer is cancelled while it waits for something else: a timer, a message); let it
/// propagate, the server ends the stream quietly.
class EventSink {
public:
    /// Virtual: the server implements the sink a producer receives.
    virtual ~EventSink() = default;
    /// Sends `event`. Throws std::invalid_argument for an `event` or `id` holding CR, LF or
    /// NUL (they would end the field early).
    virtual Task<void> send(const ServerSentEvent& event) = 0;
    /// Sends a comment line (`: text`), which EventSource ignores: a keep-alive, a note.
    virtual Task<void> comment(std::string_view text) = 0;
};

/// Produces an event stream. Use a named coroutine function (bind arguments with
/// `std::bind_front`): coroutine lambdas with captures are unsafe on GCC 12.
using EventProducer = std::function<Task<void>(EventSink&)>;

/// How event_stream sends its events.
struct EventStreamOptions {
    /// Not zero: a comment line (`: keep-alive`) whenever the stream has been quiet this long,
    /// so that proxies and load balancers do not close an idle stream.
    std::chrono::milliseconds keep_alive{0};
};

/// A `text/event-stream` answer (`Cache-Control: no-cache`, chunked) whose events `producer`
/// sends. The stream ends when the producer returns, when the client leaves (noticed at the
/// next send, and while the producer waits, by watching the connection), or when the server
/// shuts down (the producer is cancelled and the stream ended properly).
///
/// @code
/// flamecpp::Task<void> ticks(int from, flamecpp::EventSink& events) {
///     for (int n = from;; ++n) {
///         flamecpp::ServerSentEvent tick{.data = std::to_string(n), .id = std::to_string(n)};
///         co_await events.send(tick);
///         co_await flamecpp::sleep(std::chrono::seconds(1));
///     }
/// }
///
/// flamecpp::Response feed(flamecpp::LastEventId last) {
///     const int from = last->has_value() ? std::stoi(**last) + 1 : 1;
///     return flamecpp::event_stream(std::bind_front(&ticks, from));
/// }
/// @endcode
Response event_stream(EventProducer producer, EventStreamOptions options = {});

/// Waits `duration` without blocking the thread (a timer on the calling server thread). A
/// producer cancelled by its client leaving stops here, with boost::system::system_error.
Task<void> sleep(std::chrono::steady_clock::duration duration);

namespace detail {
/// The text of `event` in the stream format, ended by its blank line.
std::string format_event(const ServerSentEvent& event);
}  // namespace detail

}  // namespace flamecpp
