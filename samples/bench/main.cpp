// bench: what load tests hit (see ../shared/samples-contract.md, `bench`).
#include <boost/json/value.hpp>

#include <flamecpp/flamecpp.hpp>
#include <flamecpp/json.hpp>

flamecpp::Response plaintext() { return flamecpp::Response::text("Hello, World!"); }

// Serialized per request, as the contract asks.
boost::json::value json() { return {{"message", "Hello, World!"}}; }

int main(int argc, char** argv) {
    flamecpp::App app;
    app.route("/plaintext", plaintext);
    app.route("/json", json);
    flamecpp::ServerOptions defaults;
    defaults.log_level = flamecpp::LogLevel::warn;  // no access log line per request
    return app.run(argc, argv, defaults);
}
