// The broadcast hub's link to Redis (redis_link.hpp).
//
// Two connections per process, both coroutines on one server loop. The subscriber connection
// SUBSCRIBEs to the channels this process has subscribers for (the hub tells want() when a
// channel gets its first one or loses its last) and hands what arrives to the hub. The
// publisher connection sends the PUBLISH commands that other threads format and queue in an
// outbox. Every message carries this process's instance id, so that its own messages, which
// the hub delivered locally at once, are skipped when Redis sends them back.
//
// Other threads reach the loop through the worker's Mailbox: one post wakes both writers,
// however many messages were queued meanwhile. When Redis goes away, each connection retries
// with a doubling delay (at most max_backoff); the first failure of an outage logs one
// warning, and the loop goes on serving.
#include "server/redis_link.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <mutex>
#include <set>
#include <span>
#include <stdexcept>
#include <utility>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/system/system_error.hpp>
#include <boost/url/parse.hpp>
#include <hiredis/hiredis.h>
#include <openssl/rand.h>

#include "log.hpp"
#include "server/worker.hpp"

namespace flamecpp::detail {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;

namespace {

[[noreturn]] void bad_url(std::string_view url, std::string_view why) {
    throw std::invalid_argument(
        fmt::format("flamecpp: broadcast URL '{}': {}; expected memory:// or "
                    "redis://[[user]:password@]host[:port][/db]",
                    url, why));
}

bool iequals(std::string_view a, std::string_view b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
        return std::tolower(static_cast<unsigned char>(x)) ==
               std::tolower(static_cast<unsigned char>(y));
    });
}

/// What starts a message this process published: a byte that UTF-8 text never holds, so a
/// text message published by another program (redis-cli) cannot look like one, then the
/// format's version.
constexpr std::string_view envelope_magic{
    "\xFF"
    "fc1",
    4};
constexpr std::size_t instance_id_size = 16;
constexpr std::size_t envelope_size = envelope_magic.size() + instance_id_size;

/// Formatted PUBLISH commands waiting for the publisher connection, at most (a Redis that
/// stopped reading): further messages are dropped until it drains.
constexpr std::size_t max_outbox_bytes = std::size_t{4} * 1024 * 1024;

constexpr auto first_retry_delay = std::chrono::milliseconds(100);
constexpr auto connect_timeout = std::chrono::seconds(3);
/// The subscriber connection pings Redis this often, and one that has not answered by the next
/// ping is given up (a Redis that hangs, a peer gone without a reset).
constexpr auto ping_interval = std::chrono::seconds(5);
/// A write to Redis that has not finished after this long is given up.
constexpr auto write_timeout = std::chrono::seconds(10);

struct ReaderDeleter {
    void operator()(redisReader* r) const noexcept { redisReaderFree(r); }
};
struct ReplyDeleter {
    void operator()(redisReply* r) const noexcept { freeReplyObject(r); }
};
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

/// hiredis's RESP reader: fed the bytes read, gives the replies they complete.
class RespReader {
public:
    RespReader() : reader_(redisReaderCreate()) {
        if (!reader_) {
            throw std::bad_alloc();
        }
    }
    void feed(const char* data, std::size_t size) {
        if (redisReaderFeed(reader_.get(), data, size) != REDIS_OK) {
            throw std::runtime_error("cannot buffer a reply");
        }
    }
    /// The next complete reply, or null when more bytes are needed.
    Reply next() {
        void* reply = nullptr;
        if (redisReaderGetReply(reader_.get(), &reply) != REDIS_OK) {
            throw std::runtime_error(std::string("bad reply from Redis: ") + reader_->errstr);
        }
        return Reply(static_cast<redisReply*>(reply));
    }

private:
    std::unique_ptr<redisReader, ReaderDeleter> reader_;
};

/// One command in RESP, formatted by hiredis.
std::string format_command(std::span<const std::string_view> args) {
    std::vector<const char*> argv;
    std::vector<std::size_t> lengths;
    argv.reserve(args.size());
    lengths.reserve(args.size());
    for (std::string_view arg : args) {
        argv.push_back(arg.data());
        lengths.push_back(arg.size());
    }
    char* command = nullptr;
    const int size = redisFormatCommandArgv(&command, static_cast<int>(args.size()), argv.data(),
                                            lengths.data());
    if (size < 0 || command == nullptr) {
        throw std::bad_alloc();
    }
    std::string out(command, static_cast<std::size_t>(size));
    redisFreeCommand(command);
    return out;
}

std::string_view text_of(const redisReply& reply) { return {reply.str, reply.len}; }

/// A wake-up for a coroutine on the loop, set from the loop (a post from another thread
/// calls it there). A notify that comes while nobody waits is kept for the next wait.
class Event {
public:
    explicit Event(asio::io_context& io) : timer_(io) {}

    /// True when notified, false when `deadline` passed first. Throws when cancelled.
    asio::awaitable<bool> wait_until(asio::steady_timer::time_point deadline) {
        if (!set_) {
            timer_.expires_at(deadline);
            auto [ec] = co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
            asio::cancellation_state state = co_await asio::this_coro::cancellation_state;
            if (state.cancelled() != asio::cancellation_type::none) {
                throw boost::system::system_error(asio::error::operation_aborted);
            }
            if (!ec) {
                co_return false;
            }
        }
        set_ = false;
        co_return true;
    }

    void notify() {
        set_ = true;
        timer_.cancel();
    }

private:
    asio::steady_timer timer_;
    bool set_ = false;
};

/// The state of one run (one server's loop): its objects live and die with that loop.
struct Run {
    explicit Run(asio::io_context& io) : subscriber_wake(io), publisher_wake(io) {}
    Event subscriber_wake;
    Event publisher_wake;
    std::set<std::string, std::less<>> subscribed;  ///< on the subscriber connection
    bool pong = false;            ///< the subscriber connection's PING was answered
    bool publisher_pong = false;  ///< the publisher connection's PING was answered
    bool subscriber_refused = false;
    bool subscriber_up = false;
    bool publisher_up = false;
    bool outage = false;   ///< warned about, not over yet
    bool ever_up = false;  ///< both connections came up once
};

class Link final : public RedisLink, public std::enable_shared_from_this<Link> {
public:
    Link(BroadcastAddress address, Deliver deliver, std::chrono::milliseconds max_backoff)
        : address_(std::move(address)),
          deliver_(std::move(deliver)),
          max_backoff_(std::max(max_backoff, first_retry_delay)) {
        envelope_.assign(envelope_magic);
        std::array<unsigned char, instance_id_size> id{};
        if (RAND_bytes(id.data(), static_cast<int>(id.size())) != 1) {
            throw std::runtime_error("flamecpp: no random bytes for the broadcast's instance id");
        }
        envelope_.append(reinterpret_cast<const char*>(id.data()), id.size());
    }

    void start(Worker& worker) override {
        auto run = std::make_shared<Run>(worker.io);
        {
            std::lock_guard lock(mutex_);
            if (!run_.expired()) {
                throw std::logic_error(
                    "flamecpp: a redis:// Broadcast serves one server at a time, and another "
                    "server of this app is running");
            }
            run_ = run;
            mailbox_ = worker.mailbox;
            wake_posted_ = false;
            publishing_ = false;
            outbox_.clear();
            changed_.clear();
        }
        worker.spawn(connection_loop(shared_from_this(), run, Role::subscriber));
        worker.spawn(connection_loop(shared_from_this(), run, Role::publisher));
    }

    void publish(std::string_view channel, std::string_view message) override {
        {
            std::lock_guard lock(mutex_);
            if (!publishing_) {
                return;  // Redis is away: the other processes miss this one
            }
        }
        std::string payload;
        payload.reserve(envelope_.size() + message.size());
        payload.append(envelope_).append(message);
        const std::array<std::string_view, 3> args{"PUBLISH", channel, payload};
        std::string command = format_command(args);
        std::lock_guard lock(mutex_);
        if (!publishing_) {
            return;
        }
        if (outbox_.size() + command.size() > max_outbox_bytes && !outbox_.empty()) {
            if (dropped_++ == 0) {
                SPDLOG_LOGGER_WARN(&logger(),
                                   "broadcast: Redis at {} is not keeping up: messages for the "
                                   "other processes are dropped until it does",
                                   address_.shown);
            }
            return;
        }
        outbox_.append(command);
        wake_locked();
    }

    void want(std::string_view channel, bool wanted) override {
        std::lock_guard lock(mutex_);
        if (wanted) {
            wanted_.emplace(channel);
        } else if (auto it = wanted_.find(channel); it != wanted_.end()) {
            wanted_.erase(it);
        }
        changed_.emplace(channel);
        wake_locked();
    }

private:
    /// Wakes the loop's writers, with one post however many calls come before it runs.
    void wake_locked() {
        if (wake_posted_ || !mailbox_) {
            return;
        }
        auto wake = [weak = weak_from_this(), run = run_] {
            if (auto self = weak.lock()) {
                std::lock_guard lock(self->mutex_);
                self->wake_posted_ = false;
            }
            if (auto alive = run.lock()) {
                alive->subscriber_wake.notify();
                alive->publisher_wake.notify();
            }
        };
        wake_posted_ = mailbox_->post(wake);
    }

    static asio::awaitable<void> timeout(std::chrono::steady_clock::duration after) {
        asio::steady_timer timer(co_await asio::this_coro::executor, after);
        co_await timer.async_wait(asio::use_awaitable);
    }

    /// Runs `task`, keeping what it throws in `error` (the first such) instead. Asio's `||`
    /// waits for the first operand that *succeeds*: one that fails does not end the other.
    static asio::awaitable<void> capture(asio::awaitable<void> task, std::exception_ptr& error) {
        try {
            co_await std::move(task);
        } catch (...) {
            if (!error) {
                error = std::current_exception();
            }
        }
    }

    /// Runs `a` and `b` until either ends, then ends the other; throws what ended it, if it
    /// failed.
    static asio::awaitable<void> until_either(asio::awaitable<void> a, asio::awaitable<void> b) {
        std::exception_ptr error;
        auto first = capture(std::move(a), error);
        auto second = capture(std::move(b), error);
        co_await (std::move(first) || std::move(second));
        if (error) {
            std::rethrow_exception(error);
        }
    }

    /// Runs `task`, giving it up after `limit` with an error saying `what` timed out.
    static asio::awaitable<void> within(asio::awaitable<void> task,
                                        std::chrono::steady_clock::duration limit,
                                        const char* what) {
        std::exception_ptr error;
        auto guarded = capture(std::move(task), error);
        auto timer = timeout(limit);
        auto result = co_await (std::move(guarded) || std::move(timer));
        if (result.index() == 1) {
            throw std::runtime_error(std::string(what) + " timed out");
        }
        if (error) {
            std::rethrow_exception(error);
        }
    }

    /// Connects `socket`, authenticates and selects the database (the replies to those go
    /// through `reader`), all within connect_timeout.
    asio::awaitable<void> connect(tcp::socket& socket, RespReader& reader) {
        auto executor = co_await asio::this_coro::executor;
        boost::system::error_code ec;
        const auto address = asio::ip::make_address(address_.host, ec);
        std::vector<tcp::endpoint> endpoints;
        if (!ec) {
            endpoints.emplace_back(address, address_.port);
        } else {
            // A host name: Asio's resolver asks getaddrinfo on a thread of its own. Its wait
            // cannot be cancelled by the coroutine's cancellation, only by cancel(): a timer
            // calls it when the lookup takes too long.
            tcp::resolver resolver(executor);
            asio::steady_timer limit(executor, connect_timeout);
            limit.async_wait([&resolver](const boost::system::error_code& waited) {
                if (!waited) {
                    resolver.cancel();
                }
            });
            const std::string service = std::to_string(address_.port);
            auto [resolved_ec, results] = co_await resolver.async_resolve(
                address_.host, service, asio::as_tuple(asio::use_awaitable));
            limit.cancel();
            if (resolved_ec) {
                throw boost::system::system_error(resolved_ec);
            }
            for (const auto& entry : results) {
                endpoints.push_back(entry.endpoint());
            }
        }
        auto setting_up = set_up(socket, reader, std::move(endpoints));
        co_await within(std::move(setting_up), connect_timeout, "connecting");
    }

    asio::awaitable<void> set_up(tcp::socket& socket,
                                 RespReader& reader,
                                 std::vector<tcp::endpoint> endpoints) {
        co_await asio::async_connect(socket, endpoints, asio::use_awaitable);
        socket.set_option(tcp::no_delay(true));

        std::string hello;
        int replies = 0;
        if (!address_.password.empty()) {
            if (address_.user.empty()) {
                const std::array<std::string_view, 2> args{"AUTH", address_.password};
                hello += format_command(args);
            } else {
                const std::array<std::string_view, 3> args{"AUTH", address_.user,
                                                           address_.password};
                hello += format_command(args);
            }
            ++replies;
        }
        if (address_.db != 0) {
            const std::string db = std::to_string(address_.db);
            const std::array<std::string_view, 2> args{"SELECT", db};
            hello += format_command(args);
            ++replies;
        }
        if (replies == 0) {
            co_return;
        }
        co_await write(socket, hello);
        std::array<char, 512> buffer{};
        while (replies > 0) {
            std::size_t n =
                co_await socket.async_read_some(asio::buffer(buffer), asio::use_awaitable);
            reader.feed(buffer.data(), n);
            for (Reply reply = reader.next(); reply; reply = reader.next()) {
                if (reply->type == REDIS_REPLY_ERROR) {
                    throw std::runtime_error(std::string(text_of(*reply)));
                }
                --replies;
            }
        }
    }

    static asio::awaitable<void> write_all(tcp::socket& socket, std::string_view bytes) {
        co_await asio::async_write(socket, asio::buffer(bytes), asio::use_awaitable);
    }

    static asio::awaitable<void> write(tcp::socket& socket, std::string_view bytes) {
        auto writing = write_all(socket, bytes);
        co_await within(std::move(writing), write_timeout, "a write to Redis");
    }

    void unreachable(Run& run, std::string_view why) {
        if (!run.outage) {
            run.outage = true;
            SPDLOG_LOGGER_WARN(&logger(),
                               "broadcast: Redis at {} is unreachable ({}): messages reach this "
                               "process's subscribers only until it is back; retrying",
                               address_.shown, why);
        }
    }

    void maybe_reachable(Run& run) {
        if (!run.subscriber_up || !run.publisher_up) {
            return;
        }
        if (run.outage) {
            run.outage = false;
            SPDLOG_LOGGER_INFO(&logger(), "broadcast: Redis at {} is reachable again",
                               address_.shown);
        } else if (!run.ever_up) {
            SPDLOG_LOGGER_INFO(&logger(), "broadcast: connected to Redis at {}", address_.shown);
        }
        run.ever_up = true;
    }

    /// Waits before the next try; false when cancelled (the shutdown).
    static asio::awaitable<bool> pause(std::chrono::milliseconds delay) {
        asio::steady_timer timer(co_await asio::this_coro::executor, delay);
        auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
        co_return !ec;
    }

    static asio::awaitable<bool> cancelled() {
        asio::cancellation_state state = co_await asio::this_coro::cancellation_state;
        co_return state.cancelled() != asio::cancellation_type::none;
    }

    std::chrono::milliseconds next_delay(std::chrono::milliseconds delay) const {
        return std::min(delay * 2, max_backoff_);
    }

    // Both connections: connect, serve until the connection fails, wait, try again.

    enum class Role : bool { subscriber, publisher };

    static asio::awaitable<void> connection_loop(std::shared_ptr<Link> self,
                                                 std::shared_ptr<Run> run,
                                                 Role role) {
        const bool subscriber = role == Role::subscriber;
        bool& up = subscriber ? run->subscriber_up : run->publisher_up;
        std::chrono::milliseconds delay = first_retry_delay;
        for (;;) {
            std::string failure;
            {
                tcp::socket socket(co_await asio::this_coro::executor);
                try {
                    RespReader reader;
                    co_await self->connect(socket, reader);
                    if (subscriber) {
                        co_await self->serve_subscriber(socket, reader, *run, delay);
                    } else {
                        co_await self->serve_publisher(socket, reader, *run, delay);
                    }
                } catch (const boost::system::system_error& e) {
                    failure = e.code().message();  // what() names Asio's source lines
                } catch (const std::exception& e) {
                    failure = e.what();
                }
            }
            up = false;
            SPDLOG_LOGGER_DEBUG(&logger(), "broadcast: the Redis {} connection ended: {}",
                                subscriber ? "subscriber" : "publisher", failure);
            if (co_await cancelled()) {
                co_return;
            }
            self->unreachable(*run, failure);
            if (!co_await pause(delay)) {
                co_return;
            }
            delay = self->next_delay(delay);
        }
    }

    /// A connection is up: marks it so, and restarts the backoff.
    void connected(Run& run, bool& up, std::chrono::milliseconds& delay) {
        up = true;
        maybe_reachable(run);
        delay = first_retry_delay;
    }

    // The subscriber connection.

    asio::awaitable<void> serve_subscriber(tcp::socket& socket,
                                           RespReader& reader,
                                           Run& run,
                                           std::chrono::milliseconds& delay) {
        run.subscriber_refused = false;
        co_await subscribe_all(socket, run);
        connected(run, run.subscriber_up, delay);
        auto reading = subscriber_reader(socket, reader, run);
        auto writing = subscriber_writer(socket, run);
        co_await until_either(std::move(reading), std::move(writing));
    }

    /// After a (re)connection: subscribes to every channel this process wants.
    asio::awaitable<void> subscribe_all(tcp::socket& socket, Run& run) {
        std::vector<std::string_view> args{"SUBSCRIBE"};
        {
            std::lock_guard lock(mutex_);
            run.subscribed = wanted_;
            changed_.clear();
        }
        if (run.subscribed.empty()) {
            co_return;
        }
        args.insert(args.end(), run.subscribed.begin(), run.subscribed.end());
        const std::string command = format_command(args);
        co_await write(socket, command);
    }

    asio::awaitable<void> subscriber_reader(tcp::socket& socket, RespReader& reader, Run& run) {
        std::vector<char> buffer(std::size_t{16} * 1024);
        for (;;) {
            std::size_t n =
                co_await socket.async_read_some(asio::buffer(buffer), asio::use_awaitable);
            reader.feed(buffer.data(), n);
            for (Reply reply = reader.next(); reply; reply = reader.next()) {
                on_reply(*reply, run);
            }
        }
    }

    void on_reply(const redisReply& reply, Run& run) {
        if (reply.type == REDIS_REPLY_ERROR) {
            // A SUBSCRIBE refused (an ACL on one channel, say): that channel stays local; the
            // others go on. Once per connection: the next ones are likely the same.
            if (!run.subscriber_refused) {
                run.subscriber_refused = true;
                SPDLOG_LOGGER_WARN(&logger(), "broadcast: Redis at {} refused a command: {}",
                                   address_.shown, text_of(reply));
            }
            return;
        }
        if (reply.type == REDIS_REPLY_STATUS) {  // +PONG, with no channel subscribed
            run.pong = true;
            return;
        }
        if (reply.type != REDIS_REPLY_ARRAY || reply.elements < 2) {
            return;
        }
        const redisReply& kind = *reply.element[0];
        if (kind.type != REDIS_REPLY_STRING) {
            return;
        }
        const std::string_view what = text_of(kind);
        if (what == "pong") {
            run.pong = true;
            return;
        }
        if (what != "message" || reply.elements < 3 ||
            reply.element[1]->type != REDIS_REPLY_STRING ||
            reply.element[2]->type != REDIS_REPLY_STRING) {
            return;  // subscribe and unsubscribe confirmations
        }
        const std::string_view channel = text_of(*reply.element[1]);
        std::string_view message = text_of(*reply.element[2]);
        if (message.starts_with(envelope_magic) && message.size() >= envelope_size) {
            if (message.substr(0, envelope_size) == envelope_) {
                return;  // ours: delivered here when it was published
            }
            message.remove_prefix(envelope_size);
        }
        // Else published by another program (redis-cli): delivered as it is.
        deliver_(channel, message);
    }

    asio::awaitable<void> subscriber_writer(tcp::socket& socket, Run& run) {
        auto next_ping = std::chrono::steady_clock::now() + ping_interval;
        bool ping_out = false;
        for (;;) {
            if (!co_await run.subscriber_wake.wait_until(next_ping)) {
                if (ping_out && !run.pong) {
                    throw std::runtime_error("no answer to PING");
                }
                ping_out = true;
                run.pong = false;
                next_ping = std::chrono::steady_clock::now() + ping_interval;
                const std::array<std::string_view, 1> args{"PING"};
                const std::string command = format_command(args);
                co_await write(socket, command);
                continue;
            }
            std::set<std::string, std::less<>> changed;
            std::vector<std::string_view> subscribe{"SUBSCRIBE"};
            std::vector<std::string_view> unsubscribe{"UNSUBSCRIBE"};
            {
                std::lock_guard lock(mutex_);
                changed.swap(changed_);
                for (const std::string& channel : changed) {
                    const bool wanted = wanted_.contains(channel);
                    const bool has = run.subscribed.contains(channel);
                    if (wanted && !has) {
                        subscribe.emplace_back(channel);
                    } else if (!wanted && has) {
                        unsubscribe.emplace_back(channel);
                    }
                }
            }
            std::string commands;
            if (subscribe.size() > 1) {
                commands += format_command(subscribe);
            }
            if (unsubscribe.size() > 1) {
                commands += format_command(unsubscribe);
            }
            for (std::size_t i = 1; i < subscribe.size(); ++i) {
                run.subscribed.emplace(subscribe[i]);
            }
            for (std::size_t i = 1; i < unsubscribe.size(); ++i) {
                run.subscribed.erase(run.subscribed.find(unsubscribe[i]));
            }
            if (!commands.empty()) {
                co_await write(socket, commands);
            }
        }
    }

    // The publisher connection.

    asio::awaitable<void> serve_publisher(tcp::socket& socket,
                                          RespReader& reader,
                                          Run& run,
                                          std::chrono::milliseconds& delay) {
        {
            std::lock_guard lock(mutex_);
            publishing_ = true;
            dropped_ = 0;
        }
        // However the connection ends (a loop destroyed with this frame suspended included),
        // publishing stops: nothing fills the outbox for nobody.
        struct StopPublishing {
            Link& link;
            ~StopPublishing() {
                std::lock_guard lock(link.mutex_);
                link.publishing_ = false;
                link.outbox_.clear();
            }
        } stop_publishing{*this};
        connected(run, run.publisher_up, delay);
        auto reading = publisher_reader(socket, reader, run);
        auto writing = publisher_writer(socket, run);
        co_await until_either(std::move(reading), std::move(writing));
    }

    asio::awaitable<void> publisher_reader(tcp::socket& socket, RespReader& reader, Run& run) {
        std::array<char, 4096> buffer{};
        bool warned = false;
        for (;;) {
            std::size_t n =
                co_await socket.async_read_some(asio::buffer(buffer), asio::use_awaitable);
            reader.feed(buffer.data(), n);
            for (Reply reply = reader.next(); reply; reply = reader.next()) {
                if (reply->type == REDIS_REPLY_STATUS) {  // +PONG
                    run.publisher_pong = true;
                    continue;
                }
                if (reply->type == REDIS_REPLY_ERROR && !warned) {
                    warned = true;  // once per connection: the next ones are likely the same
                    SPDLOG_LOGGER_WARN(&logger(), "broadcast: Redis at {} refused a PUBLISH: {}",
                                       address_.shown, text_of(*reply));
                }
            }
        }
    }

    /// Sends what the outbox holds, as it comes; between messages, a PING every
    /// ping_interval, so that a connection a middlebox dropped is noticed.
    asio::awaitable<void> publisher_writer(tcp::socket& socket, Run& run) {
        std::string batch;
        auto next_ping = std::chrono::steady_clock::now() + ping_interval;
        bool ping_out = false;
        for (;;) {
            std::size_t dropped = 0;
            {
                std::lock_guard lock(mutex_);
                batch.clear();
                batch.swap(outbox_);
                if (batch.empty() && dropped_ != 0) {
                    dropped = std::exchange(dropped_, 0);  // caught up
                }
            }
            if (dropped != 0) {
                SPDLOG_LOGGER_WARN(&logger(),
                                   "broadcast: Redis at {} keeps up again; {} message(s) did not "
                                   "reach the other processes",
                                   address_.shown, dropped);
            }
            if (!batch.empty()) {
                co_await write(socket, batch);
                continue;
            }
            if (co_await run.publisher_wake.wait_until(next_ping)) {
                continue;
            }
            if (ping_out && !run.publisher_pong) {
                throw std::runtime_error("no answer to PING");
            }
            ping_out = true;
            run.publisher_pong = false;
            next_ping = std::chrono::steady_clock::now() + ping_interval;
            const std::array<std::string_view, 1> args{"PING"};
            const std::string command = format_command(args);
            co_await write(socket, command);
        }
    }

    const BroadcastAddress address_;
    const Deliver deliver_;
    const std::chrono::milliseconds max_backoff_;
    std::string envelope_;  ///< magic + this process's instance id

    std::mutex mutex_;
    std::set<std::string, std::less<>> wanted_;   ///< the channels with local subscribers
    std::set<std::string, std::less<>> changed_;  ///< channels whose want() changed since
    std::string outbox_;                          ///< formatted PUBLISH commands
    std::size_t dropped_ = 0;                     ///< messages dropped since the last warning
    bool publishing_ = false;                     ///< the publisher connection is up
    bool wake_posted_ = false;
    std::shared_ptr<Mailbox> mailbox_;  ///< the loop the connections run on
    std::weak_ptr<Run> run_;
};

}  // namespace

BroadcastAddress parse_broadcast_url(std::string_view url) {
    auto parsed = boost::urls::parse_uri(url);
    if (!parsed) {
        bad_url(url, "not a URL");
    }
    const boost::urls::url_view& u = *parsed;
    BroadcastAddress address;
    if (iequals(u.scheme(), "memory")) {
        if (!u.encoded_host().empty() || !u.encoded_path().empty() || u.has_query() ||
            u.has_userinfo() || u.has_port() || u.has_fragment()) {
            bad_url(url, "memory:// takes nothing after it");
        }
        address.shown = "memory://";
        return address;
    }
    if (!iequals(u.scheme(), "redis")) {
        bad_url(url, fmt::format("unknown scheme '{}'", u.scheme()));
    }
    address.redis = true;
    if (u.host_type() == boost::urls::host_type::ipv6) {
        address.host = u.host_ipv6_address().to_string();
    } else {
        address.host = u.host_address();
    }
    if (address.host.empty()) {
        bad_url(url, "no host");
    }
    if (u.has_port()) {
        const std::string_view text = u.port();
        unsigned port = 0;
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
        if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || port == 0 ||
            port > 65535) {
            bad_url(url, "a bad port");
        }
        address.port = static_cast<std::uint16_t>(port);
    }
    if (u.has_userinfo()) {
        address.user = u.user();
        if (u.has_password()) {
            address.password = u.password();
        } else {
            // redis://secret@host: a lone userinfo is the password, as Redis clients read it.
            address.password = std::move(address.user);
            address.user.clear();
        }
    }
    std::string_view path = u.encoded_path();
    if (!path.empty() && path != "/") {
        path.remove_prefix(1);
        unsigned db = 0;
        auto [end, ec] = std::from_chars(path.data(), path.data() + path.size(), db);
        if (ec != std::errc{} || end != path.data() + path.size() || path.front() == '+') {
            bad_url(url, "the path must be a database number");
        }
        address.db = db;
    }
    if (u.has_query() || u.has_fragment()) {
        bad_url(url, "a query or fragment is not understood");
    }
    address.shown = "redis://";
    if (!address.user.empty() || !address.password.empty()) {
        address.shown += address.user;
        address.shown += address.password.empty() ? "@" : ":***@";
    }
    const bool v6 = u.host_type() == boost::urls::host_type::ipv6;
    address.shown += v6 ? "[" + address.host + "]" : address.host;
    address.shown += fmt::format(":{}", address.port);
    if (address.db != 0) {
        address.shown += fmt::format("/{}", address.db);
    }
    return address;
}

std::shared_ptr<RedisLink> RedisLink::make(BroadcastAddress address,
                                           Deliver deliver,
                                           std::chrono::milliseconds max_backoff) {
    return std::make_shared<Link>(std::move(address), std::move(deliver), max_backoff);
}

}  // namespace flamecpp::detail
