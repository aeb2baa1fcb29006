// Step 9: tests for the application layer of step 8's app: the middleware's headers, the app's
// own 404, the notes kept in a file across two runs of the app, and the page's form.
#define BOARD_NO_MAIN
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>

#include <gtest/gtest.h>

#include <flamecpp/testing.hpp>

#include "step8.cpp"

using flamecpp::testing::TestClient;

TEST(BoardApp, EveryAnswerHasARequestIdAndATiming) {
    TestClient client(make_app());
    auto r = client.get("/notes");
    EXPECT_EQ(r.header("X-Request-ID").value_or("").size(), 36U);  // a fresh UUID
    EXPECT_TRUE(r.header("Server-Timing").value_or("").starts_with("app;dur="));
    // A 404 of the router passes through the middleware too.
    EXPECT_EQ(
        client.get("/nowhere", {.headers = {{"X-Request-ID", "abc-1"}}}).header("X-Request-ID"),
        "abc-1");
}

TEST(BoardApp, AMissingNoteIsTheAppsOwn404) {
    TestClient client(make_app());
    auto r = client.get("/notes/41");
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(r.json(),
              (boost::json::value{{"detail", "no such note"}, {"id", 41}, {"path", "/notes/41"}}));
}

TEST(BoardApp, KeepsTheNotesInItsFileAcrossRuns) {
    auto file = std::filesystem::temp_directory_path() /
                ("board-" + std::to_string(std::random_device{}()) + ".txt");
    std::filesystem::remove(file);
    {
        TestClient first(make_app(file.string()));  // no file yet: the two notes it starts with
        EXPECT_EQ(first.post("/notes", {.json = {{"text", "Buy stamps"}}}).status, 201);
    }  // the shutdown hook saves the notes
    std::ifstream saved(file);
    EXPECT_EQ(std::string(std::istreambuf_iterator<char>(saved), {}),
              "Buy milk\nCall Ada\nBuy stamps\n");
    {
        TestClient second(make_app(file.string()));  // the startup hook loads them
        EXPECT_EQ(second.get("/notes/2").json().as_object().at("text"), "Buy stamps");
    }
    std::filesystem::remove(file);
}

TEST(BoardApp, ThePageAddsNotesThroughItsForm) {
    TestClient client(make_app());
    auto added = client.post(
        "/notes/form", {.form = {{"text", "<b>Bold</b> & brave"}}, .follow_redirects = false});
    EXPECT_EQ(added.status, 303);
    EXPECT_EQ(added.header("Location"), "http://testserver/");

    auto page = client.get("/");
    EXPECT_EQ(page.status, 200);
    EXPECT_NE(page.body.find("<li>&lt;b&gt;Bold&lt;/b&gt; &amp; brave</li>"), std::string::npos);
    EXPECT_NE(page.body.find(R"(action="http://testserver/notes/form")"), std::string::npos);
    EXPECT_EQ(client.post("/notes/form", {.form = {{"title", "no text"}}}).status, 400);
}
