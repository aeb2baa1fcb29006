// Step 2: the board's notes, kept in a component, listed by an endpoint class.
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>

#include <flamecpp/flamecpp.hpp>
#include <flamecpp/json.hpp>

/// One object for the whole app, shared by every connection on every thread: hence the lock.
struct Board : flamecpp::Component {
    std::mutex mutex;
    std::vector<std::string> notes{"Buy milk", "Call Ada"};
};

/// GET /notes lists the notes; every other verb gets 405 with `Allow: GET, HEAD`.
struct Notes : flamecpp::HTTPEndpoint {
    boost::json::value get(Board& board) {  // the injector hands over the component
        std::lock_guard lock(board.mutex);
        boost::json::array out;
        for (const auto& note : board.notes) {
            out.emplace_back(note);
        }
        return out;
    }
};

int main(int argc, char** argv) {
    flamecpp::App app;
    app.component(std::make_shared<Board>());
    app.route("/", [] { return std::string("Welcome to the board."); });
    app.route<Notes>("/notes");
    return app.run(argc, argv);
}
