// Step 3: path and query parameters, typed; a missing note is a 404.
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>

#include <flamecpp/flamecpp.hpp>
#include <flamecpp/json.hpp>

using flamecpp::Path;
using flamecpp::Query;

struct Board : flamecpp::Component {
    std::mutex mutex;
    std::vector<std::string> notes{"Buy milk", "Call Ada"};
};

struct Notes : flamecpp::HTTPEndpoint {
    /// GET /notes?limit=N: at most N notes (10 without it; `limit=abc` is a 400).
    boost::json::value get(Board& board, Query<"limit", int, 10> limit) {
        std::lock_guard lock(board.mutex);
        boost::json::array out;
        for (const auto& note : board.notes) {
            if (out.size() == static_cast<std::size_t>(*limit)) {
                break;
            }
            out.emplace_back(note);
        }
        return out;
    }
};

/// GET /notes/{id:int}: one note by its number; `/notes/abc` does not match (404).
boost::json::value note(Path<"id", int> id, Board& board) {
    std::lock_guard lock(board.mutex);
    if (*id < 0 || static_cast<std::size_t>(*id) >= board.notes.size()) {
        throw flamecpp::HTTPException(flamecpp::Status::not_found, "no such note");
    }
    return {{"id", *id}, {"text", board.notes[static_cast<std::size_t>(*id)]}};
}

int main(int argc, char** argv) {
    flamecpp::App app;
    app.component(std::make_shared<Board>());
    app.route("/", [] { return std::string("Welcome to the board."); });
    app.route<Notes>("/notes");
    // The template is checked against the handler at compile time: a Path<"id"> the
    // template lacks, or a type its convertor cannot give, does not compile.
    app.route<"/notes/{id:int}">(note, {flamecpp::Method::get}, "note");
    return app.run(argc, argv);
}
