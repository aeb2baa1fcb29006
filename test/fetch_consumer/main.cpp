#include <flamecpp/flamecpp.hpp>

flamecpp::Response hello() { return flamecpp::Response::text("Hello from a consumer"); }

int main(int argc, char** argv) {
    flamecpp::App app;
    app.route("/", hello);
    return app.run(argc, argv);
}
