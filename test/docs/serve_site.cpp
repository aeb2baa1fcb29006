// Serves the built documentation site (build/.../site) for the browser test, with flamecpp's own
// StaticFiles in html mode: a folder answers with its index.html, a missing page with 404.html.
//   serve_site --port 0 --site DIR    # prints "listening on http://127.0.0.1:PORT"
#include <string>

#include <flamecpp/flamecpp.hpp>

int main(int argc, char** argv) {
    flamecpp::App app;
    auto site = app.flag<std::string>("site", "the built site to serve", "build/site", "DIR");
    app.mount("/", flamecpp::StaticFiles(site, {.html = true}), "site");
    return app.run(argc, argv);
}
