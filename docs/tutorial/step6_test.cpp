// Step 6: tests for the board, with GoogleTest and flamecpp's TestClient: the app is served on
// a loopback port for each test, through the real parser and sessions.
// (The tutorial includes step 5's file to reuse its make_app(); in a project, make_app() has
// a file of its own, linked by the app's main and by its tests: see samples/notes.)
#define BOARD_NO_MAIN
#include <gtest/gtest.h>

#include <flamecpp/testing.hpp>

#include "step5.cpp"

using flamecpp::testing::TestClient;

TEST(Board, ListsTheNotes) {
    TestClient client(make_app());
    auto r = client.get("/notes?limit=1");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.json(), boost::json::value(boost::json::array{"Buy milk"}));
}

TEST(Board, AddsANoteAndSaysWhereItIs) {
    TestClient client(make_app());
    auto created = client.post("/notes", {.json = {{"text", "Water the plants"}}});
    EXPECT_EQ(created.status, 201);
    EXPECT_EQ(created.header("Location"), "http://testserver/notes/2");
    EXPECT_EQ(client.get("/notes/2").json().as_object().at("text"), "Water the plants");
}

TEST(Board, RefusesWhatItCannotRead) {
    TestClient client(make_app());
    EXPECT_EQ(client.post("/notes", {.json = {{"title", "no text field"}}}).status, 400);
    EXPECT_EQ(client.get("/notes/99").status, 404);
    EXPECT_EQ(client.get("/notes?limit=many").status, 400);
    EXPECT_EQ(client.delete_("/notes").status, 405);
}

TEST(Board, TakesNotesOverAWebSocket) {
    TestClient client(make_app());
    auto ws = client.websocket_connect("/ws");
    ws.send_text("Read the docs");
    EXPECT_EQ(ws.receive_text(), "note 2 added");
    EXPECT_EQ(client.get("/notes/2").json().as_object().at("text"), "Read the docs");
}
