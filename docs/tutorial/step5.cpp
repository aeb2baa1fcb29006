// Step 5: a WebSocket endpoint: each text message is a new note, answered with its number.
// The app is built by make_app(), so that step 6 can test it.
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <boost/describe/class.hpp>
#include <boost/json/array.hpp>
#include <boost/json/value.hpp>

#include <flamecpp/body.hpp>
#include <flamecpp/flamecpp.hpp>
#include <flamecpp/json.hpp>

using flamecpp::Body;
using flamecpp::Data;
using flamecpp::Path;
using flamecpp::Query;
using flamecpp::Task;
using flamecpp::WebSocket;

struct Board : flamecpp::Component {
    std::mutex mutex;
    std::vector<std::string> notes{"Buy milk", "Call Ada"};
};

/// What a client posts: {"text": "..."}. A missing field, or one of the wrong type, is a
/// 400 that names it; so is a body that is not JSON (415 without the JSON content type).
struct NewNote {
    std::string text;
};
BOOST_DESCRIBE_STRUCT(NewNote, (), (text))

struct Notes : flamecpp::HTTPEndpoint {
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

    /// POST /notes: adds the note, answers 201 with its address (reverse routing by name).
    flamecpp::Response post(Body<NewNote> body, Board& board, flamecpp::Request& request) {
        std::size_t id = 0;
        {
            std::lock_guard lock(board.mutex);
            id = board.notes.size();
            board.notes.push_back(body->text);
        }
        boost::json::value created = {{"id", id}, {"text", body->text}};
        return flamecpp::Response::json(created, flamecpp::Status::created)
            .with_header("Location", request.url_for("note", {{"id", std::to_string(id)}}));
    }
};

boost::json::value note(Path<"id", int> id, Board& board) {
    std::lock_guard lock(board.mutex);
    if (*id < 0 || static_cast<std::size_t>(*id) >= board.notes.size()) {
        throw flamecpp::HTTPException(flamecpp::Status::not_found, "no such note");
    }
    return {{"id", *id}, {"text", board.notes[static_cast<std::size_t>(*id)]}};
}

/// /ws: every text message a client sends becomes a note; the answer says its number. The
/// text encoding refuses binary messages (close 1003) before on_receive sees them.
struct Feed : flamecpp::WebSocketEndpoint {
    static constexpr flamecpp::Encoding encoding = flamecpp::Encoding::text;

    Task<void> on_receive(WebSocket& ws, Data data, Board& board) {
        std::size_t id = 0;
        {
            std::lock_guard lock(board.mutex);  // never held across a co_await
            id = board.notes.size();
            board.notes.push_back(std::move(data).str());
        }
        co_await ws.send_text("note " + std::to_string(id) + " added");
    }
};

flamecpp::App make_app() {
    flamecpp::App app;
    app.component(std::make_shared<Board>());
    app.route("/", [] { return std::string("Welcome to the board."); });
    app.route<Notes>("/notes");
    app.route<"/notes/{id:int}">(note, {flamecpp::Method::get}, "note");
    app.websocket_route<Feed>("/ws");
    return app;
}

#ifndef BOARD_NO_MAIN  // step 6 builds the app without this main
int main(int argc, char** argv) { return make_app().run(argc, argv); }
#endif
