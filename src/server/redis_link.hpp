#pragma once

// The broadcast hub's link to Redis (BroadcastOptions::url = "redis://..."): publishes this
// process's messages and receives the other processes' over Redis pub/sub. Speaks RESP with
// hiredis's command formatter and reply reader over Asio sockets, on the server's first loop.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace flamecpp::detail {

class Worker;

/// Where a hub's messages go beyond this process.
struct BroadcastAddress {
    bool redis = false;  ///< false: memory://, this process only
    std::string host;
    std::uint16_t port = 6379;
    std::string user;
    std::string password;
    unsigned db = 0;
    /// For log lines: the URL without its password.
    std::string shown;
};

/// Parses `memory://` or `redis://[[user]:password@]host[:port][/db]`. Throws
/// std::invalid_argument with one line naming what is wrong.
BroadcastAddress parse_broadcast_url(std::string_view url);

/// One process's two connections to Redis: one that subscribes to the channels this process
/// has subscribers for, one that publishes. Both run on one server loop and reconnect with a
/// backoff (at most `max_backoff`) when Redis goes away; meanwhile messages are only
/// delivered in this process.
class RedisLink {
public:
    /// Hands a message that came from another process to this process's subscribers.
    using Deliver = std::function<void(std::string_view channel, std::string_view message)>;

    static std::shared_ptr<RedisLink> make(BroadcastAddress address,
                                           Deliver deliver,
                                           std::chrono::milliseconds max_backoff);
    virtual ~RedisLink() = default;

    /// Starts both connections on `worker`'s loop (the calling thread must be its own, as
    /// during the startup hooks). They end when that worker's shutdown begins.
    virtual void start(Worker& worker) = 0;
    /// Sends `message` to the other processes, from any thread. Dropped while Redis is away.
    virtual void publish(std::string_view channel, std::string_view message) = 0;
    /// This process has subscribers of `channel` (true) or no longer has (false); any thread.
    /// Calls for one channel must come in order (the hub makes them under its lock).
    virtual void want(std::string_view channel, bool wanted) = 0;
};

}  // namespace flamecpp::detail
