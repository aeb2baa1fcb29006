// Step 1: an app with one route. Build it, run it with --port 8000, and open
// http://127.0.0.1:8000/.
#include <string>

#include <flamecpp/flamecpp.hpp>

int main(int argc, char** argv) {
    flamecpp::App app;
    app.route("/", [] { return std::string("Welcome to the board."); });
    return app.run(argc, argv);  // --host, --port, --threads, --log-level, --help
}
