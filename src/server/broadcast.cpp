// The in-process broadcast hub (include/flamecpp/broadcast.hpp).
//
// Two levels. The hub's registry, under one mutex, knows for each channel how many subscribers
// it has and on which server threads: a publish takes the mutex once, and posts one hand-off
// to each thread with subscribers (through the worker's Mailbox), carrying the message shared.
// Each thread's LocalHub knows its own subscribers per channel and is touched only on that
// thread: delivering to them takes no lock. Subscribing and unsubscribing update both; they
// are rare next to messages.
//
// Under load a thread gets many messages in one turn of its loop (the hand-offs that queued
// up, the frames of one read from a publisher or from Redis). The first is delivered at once;
// the others of that turn wait for its end, and then go to each WebSocket subscriber as one
// batch of frames in one write: a send(2) per subscriber per turn rather than per message.
// The frames of a batch are built once, for every subscriber (a server's frames are not
// masked, so they are the same bytes for all).
#include <algorithm>
#include <array>
#include <atomic>
#include <deque>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/cancellation_state.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

#include <flamecpp/broadcast.hpp>

#include "log.hpp"
#include "server/redis_link.hpp"
#include "server/websocket/session.hpp"
#include "server/worker.hpp"
#include "websocket/frame.hpp"

namespace flamecpp::detail {
namespace asio = boost::asio;

namespace {

using Message = std::shared_ptr<const std::string>;

/// Heterogeneous lookup: a channel is found by string_view without making a string.
struct ChannelHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view name) const noexcept {
        return std::hash<std::string_view>{}(name);
    }
};

template <class V>
using ChannelMap = std::unordered_map<std::string, V, ChannelHash, std::equal_to<>>;

}  // namespace

struct LocalHub;

struct BroadcastSubscriber {
    std::shared_ptr<BroadcastHub> hub;
    std::shared_ptr<LocalHub> local;  ///< the thread it lives on
    std::string channel;
    std::optional<WebSocket> ws;  ///< a WebSocket subscriber; otherwise a stream
    /// Cleared by the first unsubscribe (any thread); the thread's list drops it after.
    std::atomic<bool> active{true};

    // A stream's queue: touched on its thread only.
    std::deque<Message> queue;
    std::size_t queued_bytes = 0;
    std::size_t limit = 0;
    bool dropped = false;
    asio::steady_timer* waiter = nullptr;  ///< a receive() waits on it
    bool woken = false;                    ///< the waiter was woken by us, not cancelled

    /// Hands one message over, on the subscriber's thread. False: it is no longer active (a
    /// stream over its queue, a WebSocket that has closed).
    bool push(const Message& message);
    /// Hands several over: `frames` holds them as WebSocket text frames, one after the other.
    bool push(const std::vector<Message>& messages, const std::string& frames);
    void wake() noexcept;
};

/// One server thread's subscribers of one hub.
struct LocalHub : std::enable_shared_from_this<LocalHub> {
    explicit LocalHub(Worker& w) : worker(&w), mailbox(w.mailbox) {}

    Worker* worker;
    std::shared_ptr<Mailbox> mailbox;  ///< refuses posts once the worker is gone
    ChannelMap<std::vector<std::shared_ptr<BroadcastSubscriber>>> channels;

    /// A delivery ran in this turn of the loop: the next ones wait in `pending` for its end.
    bool turn_open = false;
    /// The messages that came after the first in this turn, per channel, in order.
    std::vector<std::pair<std::string, std::vector<Message>>> pending;

    [[nodiscard]] bool is_current() const noexcept {
        const Worker* here = Worker::current();
        return here == worker && here->mailbox == mailbox;
    }
    /// On this thread: at once if it is the turn's first, else with the turn's batch.
    void deliver(std::string_view channel, const Message& message);
    void deliver_now(std::string_view channel, const Message& message);
    void deliver_batch(std::string_view channel, const std::vector<Message>& messages);
    /// Calls `push(subscriber)` for each subscriber of `channel`; one that returns false (or
    /// throws) is unsubscribed after.
    template <class Push>
    void each_subscriber(std::string_view channel, Push push);
    /// The end of the turn: the batches go out.
    void end_turn();
    void remove(const std::shared_ptr<BroadcastSubscriber>& subscriber);
    /// The server is shutting down: stream subscribers end (a receive() returns nullopt), so
    /// that a handler waiting for a message does not hold the drain.
    void shutting_down();
};

struct BroadcastHub {
    explicit BroadcastHub(BroadcastOptions o) : options(std::move(o)) {}

    /// Makes the link to Redis, for a `redis://` URL. Its deliveries find the hub through a
    /// weak pointer: the link's connections may outlive it briefly.
    static std::shared_ptr<BroadcastHub> make(BroadcastOptions o) {
        BroadcastAddress address = parse_broadcast_url(o.url);
        auto hub = std::make_shared<BroadcastHub>(std::move(o));
        if (address.redis) {
            auto deliver = [weak = std::weak_ptr<BroadcastHub>(hub)](std::string_view channel,
                                                                     std::string_view message) {
                if (auto alive = weak.lock()) {
                    alive->deliver(channel, std::make_shared<const std::string>(message));
                }
            };
            hub->link = RedisLink::make(std::move(address), std::move(deliver),
                                        hub->options.reconnect_max_delay);
        }
        return hub;
    }

    struct Channel {
        std::size_t subscribers = 0;
        /// The threads with subscribers, and how many each has.
        std::vector<std::pair<std::shared_ptr<LocalHub>, std::size_t>> threads;
    };

    BroadcastOptions options;
    std::shared_ptr<RedisLink> link;  ///< to the other processes, for a redis:// hub
    std::mutex mutex;
    ChannelMap<Channel> channels;                   ///< under `mutex`
    std::vector<std::shared_ptr<LocalHub>> locals;  ///< under `mutex`

    /// This thread's LocalHub (made at its first subscriber). Under `mutex`.
    std::shared_ptr<LocalHub> local_for(Worker& worker) {
        for (const auto& local : locals) {
            if (local->worker == &worker && local->mailbox == worker.mailbox) {
                return local;
            }
        }
        // A worker of a server that has stopped leaves its LocalHub behind, empty (its
        // connections, hence its subscribers, are gone): forget those.
        // Held by nothing else: no subscriber and no channel entry (its `channels` belongs to
        // its thread, not to be read here).
        std::erase_if(
            locals, [](const std::shared_ptr<LocalHub>& local) { return local.use_count() == 1; });
        auto local = std::make_shared<LocalHub>(worker);
        // On the worker's thread (subscribe runs there), as its shutdown hooks are.
        worker.at_shutdown([weak = std::weak_ptr<LocalHub>(local)] {
            if (auto alive = weak.lock()) {
                alive->shutting_down();
            }
        });
        locals.push_back(local);
        return local;
    }

    std::shared_ptr<BroadcastSubscriber> add(std::shared_ptr<BroadcastHub> self,
                                             std::string_view channel,
                                             std::optional<WebSocket> ws) {
        Worker* worker = Worker::current();
        if (worker == nullptr) {
            throw std::logic_error(
                "flamecpp: Broadcast::subscribe must be called on a server thread (from a "
                "handler or a task the server runs)");
        }
        if (ws) {
            const WebSocketSession& session = WebSocketAccess::session(*ws);
            if (!session.on_owner_thread()) {
                throw std::logic_error(
                    "flamecpp: Broadcast::subscribe(channel, ws) must run on the WebSocket's "
                    "own thread (its handler)");
            }
            if (session.state() != WebSocket::State::connected) {
                throw std::logic_error(
                    "flamecpp: Broadcast::subscribe(channel, ws) needs an accepted WebSocket: "
                    "co_await ws.accept() first");
            }
        }
        auto subscriber = std::make_shared<BroadcastSubscriber>();
        subscriber->hub = std::move(self);
        subscriber->channel = std::string(channel);
        subscriber->ws = std::move(ws);
        subscriber->limit = options.queue_bytes;
        {
            std::lock_guard lock(mutex);
            subscriber->local = local_for(*worker);
        }
        // This thread's list first (only this thread touches it, deliveries included), then
        // the registry, which undoes it if it cannot follow.
        auto& mine = subscriber->local->channels[subscriber->channel];
        mine.push_back(subscriber);
        try {
            std::lock_guard lock(mutex);
            auto it = channels.find(channel);
            if (it == channels.end()) {
                it = channels.emplace(std::string(channel), Channel{}).first;
            }
            auto& threads = it->second.threads;
            auto at = std::find_if(threads.begin(), threads.end(), [&](const auto& entry) {
                return entry.first == subscriber->local;
            });
            if (at == threads.end()) {
                threads.emplace_back(subscriber->local, 1);
                ++it->second.subscribers;  // after the one step that may throw
            } else {
                ++at->second;
                ++it->second.subscribers;
            }
            if (link && it->second.subscribers == 1) {
                // Under the lock: the channel's wants reach the link in the order they happen.
                try {
                    link->want(channel, true);
                } catch (...) {
                    forget_locked(*subscriber);
                    throw;
                }
            }
        } catch (...) {
            subscriber->local->remove(subscriber);
            throw;
        }
        return subscriber;
    }

    /// Takes `subscriber` out of the registry (once); its thread's list drops it after.
    void forget(const BroadcastSubscriber& subscriber) {
        std::lock_guard lock(mutex);
        forget_locked(subscriber);
    }

    void forget_locked(const BroadcastSubscriber& subscriber) {
        auto it = channels.find(subscriber.channel);
        if (it == channels.end()) {
            return;
        }
        --it->second.subscribers;
        auto& threads = it->second.threads;
        auto at = std::find_if(threads.begin(), threads.end(),
                               [&](const auto& entry) { return entry.first == subscriber.local; });
        if (at != threads.end() && --at->second == 0) {
            threads.erase(at);
        }
        if (it->second.subscribers == 0) {
            channels.erase(it);
            if (link) {
                try {
                    link->want(subscriber.channel, false);
                } catch (...) {  // bad_alloc: Redis goes on sending what nobody here reads
                }
            }
        }
    }

    void publish(std::string_view channel, std::string message) {
        auto shared = std::make_shared<const std::string>(std::move(message));
        deliver(channel, shared);
        if (link) {
            link->publish(channel, *shared);
        }
    }

    /// Hands `shared` to this process's subscribers of `channel`.
    void deliver(std::string_view channel, const Message& shared) {
        std::shared_ptr<LocalHub> here;
        {
            std::lock_guard lock(mutex);
            auto it = channels.find(channel);
            if (it == channels.end()) {
                return;
            }
            for (const auto& [local, count] : it->second.threads) {
                if (local->is_current()) {
                    here = local;  // delivered below, outside the lock, without a hand-off
                    continue;
                }
                auto hand_off = [local = local, name = std::string(channel), shared] {
                    local->deliver(name, shared);
                };
                local->mailbox->post(hand_off);  // false: that server has stopped
            }
        }
        if (here) {
            here->deliver(channel, shared);
        }
    }
};

namespace {

/// Takes a subscriber out of its thread's list, on that thread. If that thread's loop is
/// gone (the post was refused, or the loop was destroyed with this unrun), its destructor does
/// it instead: no thread touches the list any more then, and nothing is left to wake.
class Removal {
public:
    Removal(std::shared_ptr<LocalHub> local, std::shared_ptr<BroadcastSubscriber> subscriber)
        : local_(std::move(local)), subscriber_(std::move(subscriber)) {}
    Removal(Removal&& other) noexcept
        : local_(std::move(other.local_)), subscriber_(std::move(other.subscriber_)) {}
    Removal(const Removal&) = delete;
    Removal& operator=(const Removal&) = delete;
    Removal& operator=(Removal&&) = delete;
    ~Removal() {
        if (local_) {
            local_->remove(subscriber_);
        }
    }

    void operator()() {
        std::shared_ptr<LocalHub> local = std::move(local_);
        local->remove(subscriber_);
        subscriber_->wake();
    }

private:
    std::shared_ptr<LocalHub> local_;
    std::shared_ptr<BroadcastSubscriber> subscriber_;
};

/// Ends `subscriber`'s subscription, from any thread, once.
void unsubscribe(const std::shared_ptr<BroadcastSubscriber>& subscriber) {
    if (!subscriber->active.exchange(false)) {
        return;
    }
    subscriber->hub->forget(*subscriber);
    Removal removal(subscriber->local, subscriber);
    if (subscriber->local->is_current()) {
        removal();
        return;
    }
    subscriber->local->mailbox->post(removal);  // refused: `removal` does it as it goes
}

}  // namespace

bool BroadcastSubscriber::push(const Message& message) {
    if (!active.load(std::memory_order_relaxed)) {
        return false;
    }
    if (ws) {
        if (ws->queue_text(*message)) {
            return true;
        }
        // Closing or closed (with a full queue and QueueFull::close, closed now), or a full
        // queue under QueueFull::drop: only that message is lost.
        return ws->state() == WebSocket::State::connected && !ws->close_code();
    }
    if (queued_bytes >= limit) {
        // A reader this far behind is dropped: the publisher and the others do not wait.
        dropped = true;
        queue.clear();
        queued_bytes = 0;
        wake();
        return false;
    }
    queued_bytes += message->size();
    queue.push_back(message);
    wake();
    return true;
}

bool BroadcastSubscriber::push(const std::vector<Message>& messages, const std::string& frames) {
    if (!active.load(std::memory_order_relaxed)) {
        return false;
    }
    if (!ws) {
        for (const Message& message : messages) {
            if (!push(message)) {
                return false;
            }
        }
        return true;
    }
    // One queued write of every frame; bounded as queue_text is, by its bytes.
    WebSocketSession& session = WebSocketAccess::session(*ws);
    if (session.queue(WebSocketAccess::handle(*ws), frames, false, /*framed=*/true)) {
        return true;
    }
    return ws->state() == WebSocket::State::connected && !ws->close_code();
}

void BroadcastSubscriber::wake() noexcept {
    if (waiter != nullptr) {
        woken = true;
        waiter->cancel();
    }
}

void LocalHub::deliver(std::string_view channel, const Message& message) {
    if (turn_open) {
        auto batch = std::find_if(pending.begin(), pending.end(),
                                  [channel](const auto& entry) { return entry.first == channel; });
        if (batch == pending.end()) {
            pending.emplace_back(std::string(channel), std::vector<Message>{message});
        } else {
            batch->second.push_back(message);
        }
        return;
    }
    // Posted to the back of the loop's queue: it runs after what is queued now (more
    // hand-offs, the rest of a read's frames), which joins the batch meanwhile.
    asio::post(worker->io, [self = shared_from_this()] { self->end_turn(); });
    turn_open = true;
    deliver_now(channel, message);
}

void LocalHub::end_turn() {
    turn_open = false;
    std::vector<std::pair<std::string, std::vector<Message>>> batches;
    batches.swap(pending);
    for (const auto& [channel, messages] : batches) {
        if (messages.size() == 1) {
            deliver_now(channel, messages.front());
        } else {
            deliver_batch(channel, messages);
        }
    }
}

namespace {

/// `messages` as WebSocket text frames, one after the other: the same bytes for every
/// subscriber (a server's frames are not masked).
std::string frames_of(const std::vector<Message>& messages) {
    std::size_t total = 0;
    for (const Message& message : messages) {
        total += ws::max_server_header + message->size();
    }
    std::string frames;
    frames.reserve(total);
    std::array<char, ws::max_server_header> header{};
    for (const Message& message : messages) {
        const std::size_t size = ws::write_server_header(header, ws::Opcode::text, message->size());
        frames.append(header.data(), size).append(*message);
    }
    return frames;
}

}  // namespace

template <class Push>
void LocalHub::each_subscriber(std::string_view channel, Push push) {
    auto it = channels.find(channel);
    if (it == channels.end()) {
        return;
    }
    // By index: a push does not change the list, and what it ends is removed after.
    auto& subscribers = it->second;
    std::vector<std::shared_ptr<BroadcastSubscriber>> ended;
    const std::size_t count = subscribers.size();
    for (std::size_t i = 0; i < count; ++i) {
        bool kept = false;
        try {
            kept = push(*subscribers[i]);
        } catch (const std::exception& e) {  // bad_alloc: this subscriber ends, not the loop
            SPDLOG_LOGGER_WARN(&logger(), "broadcast: a subscriber of '{}' dropped: {}", channel,
                               e.what());
        }
        if (!kept && subscribers[i]->active) {
            ended.push_back(subscribers[i]);
        }
    }
    for (const auto& subscriber : ended) {
        unsubscribe(subscriber);  // on this thread: removes it from `subscribers`
    }
}

void LocalHub::deliver_batch(std::string_view channel, const std::vector<Message>& messages) {
    std::string frames;  // built at the first WebSocket subscriber, for all of them
    each_subscriber(channel, [&](BroadcastSubscriber& subscriber) {
        if (subscriber.ws && frames.empty()) {
            frames = frames_of(messages);
        }
        return subscriber.push(messages, frames);
    });
}

void LocalHub::deliver_now(std::string_view channel, const Message& message) {
    each_subscriber(
        channel, [&message](BroadcastSubscriber& subscriber) { return subscriber.push(message); });
}

void LocalHub::shutting_down() {
    std::vector<std::shared_ptr<BroadcastSubscriber>> streams;
    for (const auto& [name, subscribers] : channels) {
        for (const auto& subscriber : subscribers) {
            if (!subscriber->ws) {
                streams.push_back(subscriber);
            }
        }
    }
    for (const auto& subscriber : streams) {
        unsubscribe(subscriber);  // on this thread: removed and woken now
    }
}

void LocalHub::remove(const std::shared_ptr<BroadcastSubscriber>& subscriber) {
    auto it = channels.find(subscriber->channel);
    if (it == channels.end()) {
        return;
    }
    std::erase(it->second, subscriber);
    if (it->second.empty()) {
        channels.erase(it);
    }
}

}  // namespace flamecpp::detail

namespace flamecpp {

Subscription::Subscription() noexcept = default;

Subscription::Subscription(std::shared_ptr<detail::BroadcastSubscriber> subscriber) noexcept
    : subscriber_(std::move(subscriber)) {}

Subscription::~Subscription() { cancel(); }

Subscription::Subscription(Subscription&& other) noexcept
    : subscriber_(std::move(other.subscriber_)) {}

Subscription& Subscription::operator=(Subscription&& other) noexcept {
    if (this != &other) {
        cancel();
        subscriber_ = std::move(other.subscriber_);
    }
    return *this;
}

bool Subscription::dropped() const noexcept { return subscriber_ && subscriber_->dropped; }

bool Subscription::active() const noexcept {
    return subscriber_ && subscriber_->active.load(std::memory_order_relaxed);
}

void Subscription::cancel() noexcept {
    if (subscriber_) {
        try {
            detail::unsubscribe(subscriber_);
        } catch (...) {  // a bad_alloc posting the removal: the thread's list keeps an
        }                // inactive entry, skipped by deliveries, removed with the LocalHub
    }
}

Task<std::optional<std::string>> Subscription::receive() {
    namespace asio = boost::asio;
    std::shared_ptr<detail::BroadcastSubscriber> s = subscriber_;  // lives across the waits
    if (!s) {
        co_return std::nullopt;
    }
    if (s->ws) {
        throw std::logic_error(
            "flamecpp: receive() on a WebSocket's subscription: its messages go to the socket");
    }
    if (!s->local->is_current()) {
        throw std::logic_error(
            "flamecpp: Subscription::receive on another thread than the one that subscribed");
    }
    if (s->waiter != nullptr) {
        throw std::logic_error("flamecpp: two receive() calls at once on one Subscription");
    }
    while (s->queue.empty()) {
        if (s->dropped || !s->active.load(std::memory_order_relaxed)) {
            co_return std::nullopt;
        }
        asio::steady_timer timer(co_await asio::this_coro::executor,
                                 asio::steady_timer::time_point::max());
        struct Waiting {  // the waiter is unset however the wait ends (a destroyed frame too)
            detail::BroadcastSubscriber& s;
            ~Waiting() { s.waiter = nullptr; }
        } waiting{*s};
        s->waiter = &timer;
        s->woken = false;
        auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
        if (ec && !s->woken) {
            throw boost::system::system_error(ec);  // cancelled (a client gone, a timeout)
        }
        // Woken, but cancelled as well (a `receive() || timer` whose timer won): leave the
        // message queued for the next receive() rather than hand it to a caller that is gone.
        asio::cancellation_state state = co_await asio::this_coro::cancellation_state;
        if (state.cancelled() != asio::cancellation_type::none) {
            throw boost::system::system_error(asio::error::operation_aborted);
        }
    }
    detail::Message message = std::move(s->queue.front());
    s->queue.pop_front();
    s->queued_bytes -= message->size();
    co_return std::string(*message);
}

Broadcast::Broadcast(BroadcastOptions options)
    : hub_(detail::BroadcastHub::make(std::move(options))) {}

void Broadcast::check_url(std::string_view url) { (void)detail::parse_broadcast_url(url); }

void Broadcast::server_started() {
    if (hub_->link) {
        hub_->link->start(*detail::Worker::current());
    }
}

Broadcast::~Broadcast() = default;

void Broadcast::publish(std::string_view channel, std::string message) const {
    hub_->publish(channel, std::move(message));
}

Subscription Broadcast::subscribe(std::string_view channel, WebSocket ws) {
    return Subscription(hub_->add(hub_, channel, std::move(ws)));
}

Subscription Broadcast::subscribe(std::string_view channel) {
    return Subscription(hub_->add(hub_, channel, std::nullopt));
}

std::size_t Broadcast::subscribers(std::string_view channel) const {
    std::lock_guard lock(hub_->mutex);
    auto it = hub_->channels.find(channel);
    return it == hub_->channels.end() ? 0 : it->second.subscribers;
}

}  // namespace flamecpp
