#include "notes_app.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include <boost/describe/class.hpp>
#include <boost/json.hpp>

#include <flamecpp/body.hpp>
#include <flamecpp/flamecpp.hpp>
#include <flamecpp/json.hpp>
#include <flamecpp/security.hpp>

namespace notes {
namespace {

using flamecpp::Body;
using flamecpp::Cookie;
using flamecpp::Data;
using flamecpp::HTTPException;
using flamecpp::Path;
using flamecpp::Response;
using flamecpp::Status;
using flamecpp::Task;
using flamecpp::WebSocket;

struct Login {
    std::string user;
};
BOOST_DESCRIBE_STRUCT(Login, (), (user))

struct NewNote {
    std::string text;
};
BOOST_DESCRIBE_STRUCT(NewNote, (), (text))

struct Note {
    std::int64_t id;
    std::string text;
};
BOOST_DESCRIBE_STRUCT(Note, (), (id, text))

/// Sessions and notes, in memory. The server may run several threads, hence the mutex.
class Store : public flamecpp::Component {
public:
    std::string open_session(std::string user) {
        std::string token = new_token();
        std::lock_guard lock(mutex_);
        sessions_[token] = std::move(user);
        return token;
    }
    void close_session(std::string_view token) {
        std::lock_guard lock(mutex_);
        sessions_.erase(std::string(token));
    }
    std::optional<std::string> user_of(std::string_view token) const {
        std::lock_guard lock(mutex_);
        auto it = sessions_.find(std::string(token));
        if (it == sessions_.end()) {
            return std::nullopt;
        }
        return it->second;
    }

    Note add(const std::string& user, std::string text) {
        std::lock_guard lock(mutex_);
        Note note{next_id_++, std::move(text)};
        notes_[user][note.id] = note;
        return note;
    }
    std::optional<Note> find(const std::string& user, std::int64_t id) const {
        std::lock_guard lock(mutex_);
        auto owner = notes_.find(user);
        if (owner == notes_.end() || !owner->second.contains(id)) {
            return std::nullopt;
        }
        return owner->second.at(id);
    }
    bool remove(const std::string& user, std::int64_t id) {
        std::lock_guard lock(mutex_);
        auto owner = notes_.find(user);
        return owner != notes_.end() && owner->second.erase(id) == 1;
    }
    boost::json::array list(const std::string& user) const {
        std::lock_guard lock(mutex_);
        boost::json::array out;
        if (auto owner = notes_.find(user); owner != notes_.end()) {
            for (const auto& [id, note] : owner->second) {
                out.push_back(boost::json::value_from(note));
            }
        }
        return out;
    }

private:
    /// 128 bits from the CSPRNG: a token nobody can predict from the ones they have seen.
    static std::string new_token() { return flamecpp::random_hex(16); }

    mutable std::mutex mutex_;
    std::unordered_map<std::string, std::string> sessions_;
    std::map<std::string, std::map<std::int64_t, Note>> notes_;
    std::int64_t next_id_ = 1;
};

using SessionCookie = Cookie<"session", std::optional<std::string>>;

/// The user of the request's session cookie, or a 401.
std::string require_user(const SessionCookie& session, const Store& store) {
    if (!session.value) {
        throw HTTPException(Status::unauthorized, "log in first");
    }
    auto user = store.user_of(*session.value);
    if (!user) {
        throw HTTPException(Status::unauthorized, "the session has ended");
    }
    return *user;
}

Response login(Body<Login> login, Store& store) {
    if (login->user.empty()) {
        throw HTTPException(Status::bad_request, "user must not be empty");
    }
    std::string token = store.open_session(login->user);
    return Response::json({{"user", login->user}})
        .set_cookie("session", token, {.http_only = true, .same_site = flamecpp::SameSite::strict});
}

Response logout(SessionCookie session, Store& store) {
    if (session.value) {
        store.close_session(*session.value);
    }
    return Response::empty().delete_cookie("session");
}

boost::json::array list_notes(SessionCookie session, Store& store) {
    return store.list(require_user(session, store));
}

Response create_note(Body<NewNote> note, SessionCookie session, Store& store) {
    std::string user = require_user(session, store);
    if (note->text.empty()) {
        throw HTTPException(Status::bad_request, "text must not be empty");
    }
    Note created = store.add(user, std::move(note->text));
    return Response::json(boost::json::value_from(created), Status::created)
        .with_header("Location", "/notes/" + std::to_string(created.id));
}

/// One note: GET reads it, DELETE removes it (404 when the user has no such note).
struct NoteEndpoint : flamecpp::HTTPEndpoint {
    boost::json::value get(Path<"id", std::int64_t> id, SessionCookie session, Store& store) {
        auto note = store.find(require_user(session, store), *id);
        if (!note) {
            throw HTTPException(Status::not_found, "no note " + std::to_string(*id));
        }
        return boost::json::value_from(*note);
    }
    Response delete_(Path<"id", std::int64_t> id, SessionCookie session, Store& store) {
        if (!store.remove(require_user(session, store), *id)) {
            throw HTTPException(Status::not_found, "no note " + std::to_string(*id));
        }
        return Response::empty();
    }
};

/// Notes over a WebSocket: each message {"text": "..."} adds a note and is answered with it.
/// Without a session the handshake is refused (403); a message without a text closes 1003.
struct LiveNotes : flamecpp::WebSocketEndpoint {
    static constexpr auto encoding = flamecpp::Encoding::json;

    Task<void> on_connect(WebSocket& ws, SessionCookie session, Store& store) {
        std::optional<std::string> found;
        if (session.value) {
            found = store.user_of(*session.value);
        }
        if (!found) {
            co_await ws.close(flamecpp::Code::policy_violation);
            co_return;
        }
        user_ = std::move(*found);
        co_await ws.accept();
    }

    Task<void> on_receive(WebSocket& ws, Data data, Store& store) {
        const auto* message = data.json().if_object();
        const auto* text = message != nullptr ? message->if_contains("text") : nullptr;
        if (text == nullptr || !text->is_string() || text->as_string().empty()) {
            co_await ws.close(flamecpp::Code::unsupported_data, "send {\"text\": \"...\"}");
            co_return;
        }
        Note note = store.add(user_, std::string(text->as_string()));
        co_await ws.send_json(boost::json::value_from(note));
    }

private:
    std::string user_;
};

}  // namespace

flamecpp::App make_app() {
    using flamecpp::Method;
    flamecpp::App app;
    app.component(std::make_shared<Store>());
    app.route("/login", login, {Method::post});
    app.route("/logout", logout, {Method::post});
    app.route("/notes", list_notes);
    app.route("/notes", create_note, {Method::post});
    app.route<NoteEndpoint>("/notes/{id:int}");
    app.websocket_route<LiveNotes>("/notes/live");
    app.limits().max_body_bytes = 16 * 1024;
    app.limits().max_websocket_message_bytes = 16 * 1024;
    return app;
}

}  // namespace notes
