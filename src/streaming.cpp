#include <exception>
#include <functional>
#include <memory>
#include <stdexcept>
#include <utility>
#include <variant>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <flamecpp/streaming.hpp>

namespace flamecpp {

namespace asio = boost::asio;

namespace detail {

namespace {

void check_field(std::string_view name, std::string_view value) {
    if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos) {
        throw std::invalid_argument("flamecpp: a server-sent event's " + std::string(name) +
                                    " must not hold CR, LF or NUL");
    }
}

/// Appends `prefix` + each line of `text` (split on CR LF, CR or LF) + LF; an empty text is
/// one empty line.
void append_lines(std::string& out, std::string_view prefix, std::string_view text) {
    for (;;) {
        const auto end = text.find_first_of("\r\n");
        out += prefix;
        out += text.substr(0, end);
        out += '\n';
        if (end == std::string_view::npos) {
            return;
        }
        const bool crlf = text[end] == '\r' && end + 1 < text.size() && text[end + 1] == '\n';
        text.remove_prefix(end + (crlf ? 2 : 1));
    }
}

}  // namespace

std::string format_event(const ServerSentEvent& event) {
    check_field("event", event.event);
    check_field("id", event.id);
    std::string out;
    out.reserve(event.data.size() + event.event.size() + event.id.size() + 32);
    if (!event.id.empty()) {
        out += "id: ";
        out += event.id;
        out += '\n';
    }
    if (!event.event.empty()) {
        out += "event: ";
        out += event.event;
        out += '\n';
    }
    if (event.retry) {
        out += "retry: ";
        out += std::to_string(event.retry->count());
        out += '\n';
    }
    append_lines(out, "data: ", event.data);
    out += '\n';
    return out;
}

}  // namespace detail

namespace {

using Clock = std::chrono::steady_clock;

/// The sink of one stream. The producer and the keep-alive may both write: a write waits
/// for the one in flight, so chunks never interleave.
class Sink final : public EventSink {
public:
    Sink(BodyWriter& out, const asio::any_io_executor& executor)
        : out_(out), wake_(executor, asio::steady_timer::time_point::max()) {}

    Task<void> send(const ServerSentEvent& event) override {
        std::string text = detail::format_event(event);
        co_await write(std::move(text));
    }

    Task<void> comment(std::string_view text) override {
        std::string out;
        detail::append_lines(out, ": ", text);
        co_await write(std::move(out));
    }

    bool busy() const noexcept { return busy_; }
    Clock::time_point last_write() const noexcept { return last_write_; }

private:
    Task<void> write(std::string text) {
        while (busy_) {
            auto [ec] = co_await wake_.async_wait(asio::as_tuple(asio::use_awaitable));
            (void)ec;
        }
        busy_ = true;
        struct Release {
            Sink& sink;
            ~Release() {
                sink.busy_ = false;
                sink.last_write_ = Clock::now();
                sink.wake_.cancel();
            }
        } release{*this};
        co_await out_.write(text);
    }

    BodyWriter& out_;
    asio::steady_timer wake_;
    bool busy_ = false;
    Clock::time_point last_write_ = Clock::now();
};

Task<void> keep_alive(Sink& sink, std::chrono::milliseconds interval) {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    for (;;) {
        // While a write waits for a slow client, last_write() stays put: wait a whole interval
        // then, rather than re-arming at a time already past.
        if (sink.busy()) {
            timer.expires_after(interval);
        } else {
            timer.expires_at(sink.last_write() + interval);
        }
        co_await timer.async_wait(asio::use_awaitable);
        if (!sink.busy() && Clock::now() - sink.last_write() >= interval) {
            co_await sink.comment("keep-alive");
        }
    }
}

Task<void> run_events(const EventProducer& producer, EventStreamOptions options, BodyWriter& out) {
    Sink sink(out, co_await asio::this_coro::executor);
    if (options.keep_alive.count() > 0) {
        // Whichever ends first, by returning or throwing, cancels the other: the keep-alive
        // only ends by failing (the client gone). (awaitable_operators' `||` waits for a
        // success, which would leave a failed producer's stream open.)
        const auto executor = co_await asio::this_coro::executor;
        auto [order, producer_error, keep_alive_error] =
            co_await asio::experimental::make_parallel_group(
                asio::co_spawn(executor, producer(sink), asio::deferred),
                asio::co_spawn(executor, keep_alive(sink, options.keep_alive), asio::deferred))
                .async_wait(asio::experimental::wait_for_one(), asio::use_awaitable);
        const std::exception_ptr& first = order[0] == 0 ? producer_error : keep_alive_error;
        if (first) {
            std::rethrow_exception(first);
        }
    } else {
        co_await producer(sink);
    }
}

}  // namespace

Response event_stream(EventProducer producer, EventStreamOptions options) {
    if (!producer) {
        throw std::invalid_argument("flamecpp: event_stream needs a producer");
    }
    auto shared = std::make_shared<const EventProducer>(std::move(producer));
    Response r = Response::stream(
        [shared, options](BodyWriter& out) { return run_events(*shared, options, out); },
        "text/event-stream");
    // Caches and proxies must pass events on as they come (nginx reads X-Accel-Buffering).
    r.with_header("Cache-Control", "no-cache");
    r.with_header("X-Accel-Buffering", "no");
    return r;
}

Task<void> sleep(std::chrono::steady_clock::duration duration) {
    asio::steady_timer timer(co_await asio::this_coro::executor, duration);
    co_await timer.async_wait(asio::use_awaitable);
}

}  // namespace flamecpp
