// files_events: what bench/run's static-file and server-sent-event rows hit, as a user would
// write it: a folder mounted at /static (`--root DIR`), and GET /events, an endless event
// stream whose producer sends as fast as the client takes them (each send waits while the
// socket is full), so the events a second and the server's CPU per event are what streaming
// costs.
#include <cstdint>
#include <string>

#include <flamecpp/flamecpp.hpp>
#include <flamecpp/static_files.hpp>
#include <flamecpp/streaming.hpp>

namespace {

flamecpp::Task<void> produce(flamecpp::EventSink& events) {
    for (std::uint64_t n = 1;; ++n) {
        flamecpp::ServerSentEvent event;
        event.data = "{\"n\":" + std::to_string(n) + "}";
        co_await events.send(event);
    }
}

flamecpp::Response events() { return flamecpp::event_stream(produce); }

}  // namespace

int main(int argc, char** argv) {
    flamecpp::App app;
    const auto root = app.flag<std::string>("root", "the folder served at /static", "", "DIR");
    app.mount("/static", flamecpp::StaticFiles(root), "static");
    app.route("/events", events);
    flamecpp::ServerOptions defaults;
    defaults.log_level = flamecpp::LogLevel::warn;  // no access log line per request
    return app.run(argc, argv, defaults);
}
