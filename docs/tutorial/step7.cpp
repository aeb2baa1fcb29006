// Step 7: the application layer. Middleware (a request ID on every answer, and a timing
// header), an exception of the app's own answered by its exception handler, and lifespan
// hooks that load the notes from a file at startup and save them at shutdown (--notes FILE).
#include <chrono>
#include <cstddef>
#include <fstream>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/describe/class.hpp>
#include <boost/json/array.hpp>
#include <boost/json/value.hpp>

#include <flamecpp/body.hpp>
#include <flamecpp/flamecpp.hpp>
#include <flamecpp/json.hpp>
#include <flamecpp/middleware.hpp>

using flamecpp::Body;
using flamecpp::Data;
using flamecpp::Next;
using flamecpp::Path;
using flamecpp::Query;
using flamecpp::Response;
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

/// The app's own error: a note that does not exist. Its exception handler makes the answer.
struct NoSuchNote : std::runtime_error {
    explicit NoSuchNote(int note_id) : std::runtime_error("no such note"), id(note_id) {}
    int id;
};

boost::json::value note(Path<"id", int> id, Board& board) {
    std::lock_guard lock(board.mutex);
    if (*id < 0 || static_cast<std::size_t>(*id) >= board.notes.size()) {
        throw NoSuchNote(*id);
    }
    return {{"id", *id}, {"text", board.notes[static_cast<std::size_t>(*id)]}};
}

/// The exception handler for NoSuchNote: its parameter of that type gets the exception; the
/// others are injected as a handler's are.
Response no_such_note(const NoSuchNote& error, flamecpp::Request& request) {
    return Response::json(
        boost::json::value{{"detail", error.what()}, {"id", error.id}, {"path", request.target()}},
        flamecpp::Status::not_found);
}

/// A middleware: how long the rest of the pipeline took, in a Server-Timing header.
Task<Response> timing(Next next) {
    auto started = std::chrono::steady_clock::now();
    auto response = co_await next();
    std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - started;
    response.with_header("Server-Timing", "app;dur=" + std::to_string(took.count()));
    co_return response;
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

/// `notes_file` is the default of --notes (the tests give their own file).
flamecpp::App make_app(std::string notes_file = "") {
    flamecpp::App app;
    app.component(std::make_shared<Board>());
    auto file =
        app.flag<std::string>("notes", "keep the notes in FILE, one per line", notes_file, "FILE");

    // Startup hooks run before the server listens; shutdown hooks after the last connection.
    app.on_startup(
        [file](Board& board) {
            std::ifstream in(*file);
            if (file->empty() || !in) {
                return;  // no file yet: keep the two notes the board starts with
            }
            std::lock_guard lock(board.mutex);
            board.notes.clear();
            for (std::string line; std::getline(in, line);) {
                board.notes.push_back(line);
            }
        },
        "load the notes");
    app.on_shutdown(
        [file](Board& board) {
            if (file->empty()) {
                return;
            }
            std::ofstream out(*file, std::ios::trunc);
            std::lock_guard lock(board.mutex);
            for (const auto& line : board.notes) {
                out << line << '\n';
            }
            if (!out.flush()) {
                throw std::runtime_error("cannot write the notes to " + *file);
            }
        },
        "save the notes");

    // The first middleware registered is the outermost layer.
    app.middleware(flamecpp::RequestID{});
    app.middleware(timing);
    app.exception_handler<NoSuchNote>(no_such_note);

    app.route("/", [] { return std::string("Welcome to the board."); });
    app.route<Notes>("/notes");
    app.route<"/notes/{id:int}">(note, {flamecpp::Method::get}, "note");
    app.websocket_route<Feed>("/ws");
    return app;
}

#ifndef BOARD_NO_MAIN  // step 9 builds the app without this main
int main(int argc, char** argv) { return make_app().run(argc, argv); }
#endif
