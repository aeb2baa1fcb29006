#pragma once

/// @file
/// A broadcast hub: publish a message on a channel, and every subscriber of that channel, on
/// every server thread, gets it. WebSocket rooms, live feeds, notifications.

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <flamecpp/detail/components.hpp>
#include <flamecpp/injection.hpp>
#include <flamecpp/task.hpp>
#include <flamecpp/websocket.hpp>

namespace flamecpp {

namespace detail {
struct BroadcastHub;
struct BroadcastSubscriber;
}  // namespace detail

/// Where a Broadcast hub's messages go, and how it treats its subscribers.
struct BroadcastOptions {
    /// `memory://` (the default): messages reach the subscribers of this process, on all its
    /// threads. `redis://[[user]:password@]host[:port][/db]` (port 6379 by default): they also
    /// reach every process whose hub is given the same Redis, through its pub/sub (channels
    /// are Redis channels of the same name). Redis going away never stops the server: this
    /// process's subscribers still get this process's messages, one warning is logged, and
    /// the hub reconnects (see reconnect_max_delay) and subscribes again. Pub/sub does not
    /// replay: what was published while a process was cut off does not reach it later.
    std::string url = "memory://";
    /// The longest wait between two tries to reach Redis (the first waits 100 ms, each next
    /// one twice as long).
    std::chrono::milliseconds reconnect_max_delay{5000};
    /// The bytes of messages a stream subscriber (Broadcast::subscribe without a WebSocket)
    /// holds unread. A message is taken while it holds less (so one large message always
    /// fits); one that arrives when it holds this much drops the subscriber: what it held is
    /// discarded and Subscription::receive returns `std::nullopt`. The publisher and
    /// the other subscribers never wait for it. (A WebSocket subscriber is bounded by its
    /// connection's send queue instead: Limits::websocket_send_queue_bytes and
    /// Limits::websocket_queue_full, closing it with 1008 by default.)
    std::size_t queue_bytes = std::size_t{1024} * 1024;
};

/// One subscriber's place in a channel: unsubscribes when destroyed (or at cancel()). Made by
/// Broadcast::subscribe; move-only. Use it on the thread that subscribed.
class Subscription {
public:
    /// No subscription.
    Subscription() noexcept;
    /// Unsubscribes.
    ~Subscription();
    /// Takes over `other`'s subscription.
    Subscription(Subscription&& other) noexcept;
    /// Unsubscribes from what this held, then takes over `other`'s subscription.
    Subscription& operator=(Subscription&& other) noexcept;
    Subscription(const Subscription&) = delete;
    Subscription& operator=(const Subscription&) = delete;

    /// A stream subscription's next message, in the order published (from one publisher):
    /// at once if one is waiting, else when one arrives. `std::nullopt` once the subscriber
    /// was dropped (a full queue) or cancelled, and when the server's shutdown begins.
    /// Cancelled as any asynchronous operation is (an event stream's producer is, when its
    /// client leaves): it then throws boost::system::system_error, and a message that had
    /// arrived stays queued. Throws std::logic_error on a WebSocket subscription (its
    /// messages go to the socket), on another thread than the one that subscribed, or while
    /// another receive() waits.
    Task<std::optional<std::string>> receive();

    /// True once the subscriber was dropped because its queue was full.
    [[nodiscard]] bool dropped() const noexcept;
    /// True while subscribed.
    [[nodiscard]] bool active() const noexcept;
    /// Unsubscribes now (a receive() waiting returns std::nullopt).
    void cancel() noexcept;

private:
    friend class Broadcast;
    explicit Subscription(std::shared_ptr<detail::BroadcastSubscriber> subscriber) noexcept;
    std::shared_ptr<detail::BroadcastSubscriber> subscriber_;
};

/// A broadcast hub, registered as a component (`app.component(hub)`) and taken
/// by handlers as `flamecpp::Broadcast&`.
///
/// A publish reaches every subscriber of the channel on every server thread: the message is
/// shared, and each thread with subscribers on the channel gets one hand-off, whatever its
/// number of subscribers; no lock is taken per subscriber. Messages from one publisher arrive
/// in the order published. With a `redis://` URL (BroadcastOptions::url) the channel spans
/// every process given the same Redis: a message reaches this process's subscribers at once,
/// and the other processes' through Redis.
///
/// @code
/// struct Room : flamecpp::WebSocketEndpoint {
///     flamecpp::Subscription subscription;
///     flamecpp::Task<void> on_connect(flamecpp::WebSocket& ws, flamecpp::Broadcast& hub) {
///         co_await ws.accept();
///         subscription = hub.subscribe("lobby", ws);   // each message: a text frame to ws
///     }
///     void on_receive(flamecpp::Data data, flamecpp::Broadcast& hub) {
///         hub.publish("lobby", std::move(data).str());
///     }
/// };
/// @endcode
class Broadcast : public Component, public detail::ServerBound {
public:
    /// A hub with these options. Throws std::invalid_argument, naming what is wrong, when
    /// `options.url` is not a URL it understands. Nothing connects yet: a `redis://` hub
    /// connects when a server starts with the app it is a component of (on the server's
    /// first thread, without a thread of its own), and when Redis cannot be reached then, the
    /// server starts anyway, warns, and keeps trying.
    explicit Broadcast(BroadcastOptions options = {});
    /// Copies share the hub.
    Broadcast(const Broadcast&) = default;
    /// Copies share the hub.
    Broadcast& operator=(const Broadcast&) = default;
    /// Moves share the hub.
    Broadcast(Broadcast&&) noexcept = default;
    /// Moves share the hub.
    Broadcast& operator=(Broadcast&&) noexcept = default;
    /// The hub lives while a copy or a subscription holds it.
    ~Broadcast() override;

    /// Publishes `message` on `channel`, from any thread (a handler, a task, a thread of your
    /// own). Returns at once. Subscribers on the calling thread get it before this returns,
    /// the others when their thread runs next; except that the messages that reach a thread
    /// after the first in one turn of its loop wait for the end of that turn, and then go to
    /// each WebSocket subscriber together, in one write.
    void publish(std::string_view channel, std::string message) const;

    /// Subscribes the WebSocket `ws` (accepted, on this thread: call it from the WebSocket's
    /// handler) to `channel`: each message is queued to it as a text frame (queue_text), so
    /// the endpoint goes on receiving meanwhile. A client that cannot keep up is handled by
    /// its send queue's policy (closed with 1008 by default). Ends when the Subscription is
    /// destroyed or cancelled (a member of a WebSocketEndpoint: when the connection ends), or
    /// at the first message after the connection has closed. Throws std::logic_error off the
    /// WebSocket's thread, or before it is accepted.
    [[nodiscard]] Subscription subscribe(std::string_view channel, WebSocket ws);

    /// Subscribes a stream to `channel` on this server thread: messages wait in its queue
    /// (BroadcastOptions::queue_bytes) until Subscription::receive takes them.
    [[nodiscard]] Subscription subscribe(std::string_view channel);

    /// Throws std::invalid_argument, naming what is wrong, unless `url` is one that
    /// BroadcastOptions::url takes. For a flag's check (App::flag).
    static void check_url(std::string_view url);

    /// The subscribers of `channel` in this process, on every thread.
    [[nodiscard]] std::size_t subscribers(std::string_view channel) const;

private:
    void server_started() override;
    std::shared_ptr<detail::BroadcastHub> hub_;
};

}  // namespace flamecpp
