// The notes app's tests, as its authors write them: each test serves a fresh app with
// TestClient and talks to it over HTTP and WebSocket. Run them with `ctest` in this folder's
// build directory.
#include <gtest/gtest.h>

#include <flamecpp/testing.hpp>

#include "notes_app.hpp"

namespace {

using flamecpp::testing::TestClient;
using flamecpp::testing::WebSocketClosed;
using flamecpp::testing::WebSocketRejected;

/// A client whose cookie jar holds a session for `user`.
void log_in(TestClient& client, const std::string& user) {
    auto response = client.post("/login", {.json = {{"user", user}}});
    ASSERT_EQ(response.status, 200) << response.text();
    ASSERT_TRUE(client.cookies().get("session"));
}

TEST(Notes, LoginSetsAnHttpOnlySessionCookie) {
    TestClient client(notes::make_app());
    auto response = client.post("/login", {.json = {{"user", "ann"}}});
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.json().at("user"), "ann");
    auto cookie = response.header("Set-Cookie").value_or("");
    EXPECT_NE(cookie.find("HttpOnly"), std::string::npos) << cookie;
    EXPECT_NE(cookie.find("SameSite=Strict"), std::string::npos) << cookie;
}

TEST(Notes, NotesNeedASession) {
    TestClient client(notes::make_app());
    auto response = client.get("/notes");
    EXPECT_EQ(response.status, 401);
    EXPECT_EQ(response.json().at("detail"), "log in first");
}

TEST(Notes, ABadLoginBodyIsA400) {
    TestClient client(notes::make_app());
    EXPECT_EQ(client.post("/login", {.json = {{"name", "ann"}}}).status, 400);
    EXPECT_EQ(client.post("/login", {.body = "not json"}).status, 415);
    EXPECT_EQ(client.post("/login", {.json = {{"user", ""}}}).status, 400);
}

TEST(Notes, CreateReadListDelete) {
    TestClient client(notes::make_app());
    log_in(client, "ann");

    auto created = client.post("/notes", {.json = {{"text", "buy milk"}}});
    ASSERT_EQ(created.status, 201) << created.text();
    auto id = created.json().at("id").as_int64();
    EXPECT_EQ(created.header("Location"), "/notes/" + std::to_string(id));

    auto read = client.get("/notes/" + std::to_string(id));
    EXPECT_EQ(read.json().at("text"), "buy milk");

    client.post("/notes", {.json = {{"text", "call bob"}}});
    EXPECT_EQ(client.get("/notes").json().as_array().size(), 2u);

    EXPECT_EQ(client.delete_("/notes/" + std::to_string(id)).status, 204);
    EXPECT_EQ(client.get("/notes/" + std::to_string(id)).status, 404);
    EXPECT_EQ(client.get("/notes").json().as_array().size(), 1u);
}

TEST(Notes, UsersSeeOnlyTheirOwnNotes) {
    // Two clients are two browsers (a cookie jar each) on two servers of the same app object,
    // so they share its Store.
    auto app = notes::make_app();
    TestClient ann(app);
    TestClient bob(app);
    log_in(ann, "ann");
    log_in(bob, "bob");
    auto id = ann.post("/notes", {.json = {{"text", "secret"}}}).json().at("id").as_int64();
    EXPECT_EQ(bob.get("/notes/" + std::to_string(id)).status, 404);
    EXPECT_TRUE(bob.get("/notes").json().as_array().empty());
    EXPECT_EQ(ann.get("/notes").json().as_array().size(), 1u);
}

TEST(Notes, LogoutEndsTheSession) {
    TestClient client(notes::make_app());
    log_in(client, "ann");
    auto token = *client.cookies().get("session");
    EXPECT_EQ(client.post("/logout").status, 204);
    EXPECT_FALSE(client.cookies().get("session"));
    // The old token no longer works, even if a client kept it.
    client.cookies().set("session", token);
    EXPECT_EQ(client.get("/notes").json().at("detail"), "the session has ended");
}

TEST(Notes, IdsMustBeIntegers) {
    TestClient client(notes::make_app());
    log_in(client, "ann");
    EXPECT_EQ(client.get("/notes/abc").status, 404);
    auto allowed = client.request("PUT", "/notes/1");
    EXPECT_EQ(allowed.status, 405);
    EXPECT_EQ(allowed.header("Allow"), "GET, HEAD, DELETE");
}

TEST(Notes, TheBodyLimitIsTheRealOne) {
    TestClient client(notes::make_app());
    log_in(client, "ann");
    std::string big(17 * 1024, 'x');
    EXPECT_EQ(client.post("/notes", {.json = {{"text", big}}}).status, 413);
}

TEST(LiveNotes, AddsNotesOverAWebSocket) {
    TestClient client(notes::make_app());
    log_in(client, "ann");
    auto ws = client.websocket_connect("/notes/live");
    ws.send_json({{"text", "from the socket"}});
    auto note = ws.receive_json();
    EXPECT_EQ(note.at("text"), "from the socket");
    EXPECT_EQ(ws.close(), 1000);
    EXPECT_EQ(client.get("/notes").json().as_array().size(), 1u);
}

TEST(LiveNotes, WithoutASessionTheHandshakeIsRefused) {
    TestClient client(notes::make_app());
    try {
        client.websocket_connect("/notes/live");
        FAIL() << "the handshake succeeded";
    } catch (const WebSocketRejected& e) {
        EXPECT_EQ(e.status(), 403);
    }
}

TEST(LiveNotes, AMessageWithoutTextCloses1003) {
    TestClient client(notes::make_app());
    log_in(client, "ann");
    auto ws = client.websocket_connect("/notes/live");
    ws.send_json({{"title", "wrong field"}});
    try {
        ws.receive_json();
        FAIL() << "the server kept the connection";
    } catch (const WebSocketClosed& e) {
        EXPECT_EQ(e.code(), 1003);
    }
}

TEST(LiveNotes, TextThatIsNotJsonCloses1003) {
    TestClient client(notes::make_app());
    log_in(client, "ann");
    auto ws = client.websocket_connect("/notes/live");
    ws.send_text("plain words");
    try {
        ws.receive();
        FAIL() << "the server kept the connection";
    } catch (const WebSocketClosed& e) {
        EXPECT_EQ(e.code(), 1003);
    }
}

}  // namespace
