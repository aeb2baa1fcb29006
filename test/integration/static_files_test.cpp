// StaticFiles in html mode and Response::file from a handler, through TestClient: index pages,
// the trailing-slash redirect, 404.html, downloads, a file answer from an exception handler,
// and a missing file from a handler.
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <unistd.h>

#include <flamecpp/flamecpp.hpp>
#include <flamecpp/testing.hpp>

#include "http_client.hpp"

namespace flamecpp {
namespace {

namespace fs = std::filesystem;
using testing::ClientOptions;
using testing::TestClient;

ClientOptions quiet() { return ClientOptions{.log_level = LogLevel::off}; }

class StaticFilesTest : public ::testing::Test {
protected:
    void SetUp() override {
        root_ = fs::path(::testing::TempDir()) / ("static-files-" + std::to_string(::getpid()));
        fs::remove_all(root_);
        fs::create_directories(root_ / "docs");
        fs::create_directories(root_ / "empty");
        write("index.html", "<h1>home</h1>");
        write("docs/index.html", "<h1>docs</h1>");
        write("404.html", "<h1>lost</h1>");
        write("report.csv", "a,b\n1,2\n");
    }
    void TearDown() override { fs::remove_all(root_); }
    void write(const std::string& name, const std::string& text) {
        std::ofstream(root_ / name, std::ios::binary) << text;
    }
    fs::path root_;
};

TEST_F(StaticFilesTest, HtmlModeServesIndexPagesAnd404Html) {
    App app;
    app.mount("/", StaticFiles(root_.string(), {.html = true}), "site");
    EXPECT_EQ(app.url_path_for("site", {{"path", "docs/index.html"}}), "/docs/index.html");
    TestClient client(std::move(app), quiet());

    auto home = client.get("/");
    EXPECT_EQ(home.status, 200);
    EXPECT_EQ(home.text(), "<h1>home</h1>");
    EXPECT_EQ(home.header("Content-Type"), "text/html; charset=utf-8");

    auto docs = client.get("/docs/");
    EXPECT_EQ(docs.status, 200);
    EXPECT_EQ(docs.text(), "<h1>docs</h1>");

    auto redirect = client.get("/docs?x=1", {.follow_redirects = false});
    EXPECT_EQ(redirect.status, 307);
    EXPECT_EQ(redirect.header("Location"), "/docs/?x=1");

    for (const char* missing : {"/nothing.txt", "/empty/", "/%2e%2e/etc/passwd"}) {
        auto lost = client.get(missing);
        EXPECT_EQ(lost.status, 404) << missing;
        EXPECT_EQ(lost.text(), "<h1>lost</h1>") << missing;
        EXPECT_EQ(lost.header("Content-Type"), "text/html; charset=utf-8") << missing;
    }
}

TEST_F(StaticFilesTest, WithoutHtmlModeDirectoriesAre404) {
    App app;
    app.mount("/files", StaticFiles(root_.string()), "files");
    EXPECT_EQ(app.url_path_for("files", {{"path", "report.csv"}}), "/files/report.csv");
    TestClient client(std::move(app), quiet());
    EXPECT_EQ(client.get("/files/docs/").status, 404);
    EXPECT_EQ(client.get("/files/").status, 404);
    EXPECT_EQ(client.get("/files/nothing").text(), R"({"detail":"Not Found"})");  // HTTPException
    EXPECT_EQ(client.get("/files/report.csv").header("Content-Type"), "text/csv; charset=utf-8");
}

TEST_F(StaticFilesTest, AMissingFolderFailsTheStart) {
    App app;
    app.mount("/files", StaticFiles((root_ / "nope").string()), "files");
    EXPECT_THROW(TestClient(std::move(app), quiet()), std::exception);
}

TEST_F(StaticFilesTest, ResponseFileFromAHandler) {
    App app;
    const std::string report = (root_ / "report.csv").string();
    const std::string missing = (root_ / "missing.csv").string();
    const std::string folder = root_.string();
    app.route("/report",
              [report] { return Response::file(report, {.download_name = "report 2026.csv"}); });
    app.route("/rapport", [report] {
        return Response::file(report,
                              {.content_type = "text/plain", .download_name = "Übersicht.csv"});
    });
    app.route("/missing", [missing] { return Response::file(missing); });
    app.route("/folder", [folder] { return Response::file(folder); });
    TestClient client(std::move(app), quiet());

    auto r = client.get("/report");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.text(), "a,b\n1,2\n");
    EXPECT_EQ(r.header("Content-Type"), "text/csv; charset=utf-8");
    EXPECT_EQ(r.header("Content-Disposition"), "attachment; filename=\"report 2026.csv\"");

    auto other = client.get("/rapport", {.headers = {{"Range", "bytes=0-2"}}});
    EXPECT_EQ(other.status, 206);
    EXPECT_EQ(other.text(), "a,b");
    EXPECT_EQ(other.header("Content-Type"), "text/plain");
    EXPECT_EQ(other.header("Content-Disposition"),
              "attachment; filename=\"__bersicht.csv\"; filename*=UTF-8''%C3%9Cbersicht.csv");

    EXPECT_EQ(client.get("/missing").status, 404);
    EXPECT_EQ(client.get("/folder").status, 404);
}

TEST_F(StaticFilesTest, AFileFromAnExceptionHandler) {
    App app;
    const std::string page = (root_ / "404.html").string();
    app.exception_handler(Status::not_found, [page] {
        Response r = Response::file(page);
        r.set_status(Status::not_found);
        return r;
    });
    TestClient client(std::move(app), quiet());
    auto r = client.get("/nowhere", {.headers = {{"Range", "bytes=0-1"}}});
    EXPECT_EQ(r.status, 404);  // no range for an error page
    EXPECT_EQ(r.text(), "<h1>lost</h1>");
}

TEST_F(StaticFilesTest, AFileMadeByAnExceptionHandlerAnswersPreconditionsAndRanges) {
    // A single-page app's fallback: every unknown path answers with the index page, 200.
    App app;
    const std::string index = (root_ / "index.html").string();
    app.exception_handler(Status::not_found, [index] { return Response::file(index); });
    TestClient client(std::move(app), quiet());
    EXPECT_EQ(client.get("/some/page").text(), "<h1>home</h1>");
    EXPECT_EQ(client.get("/some/page", {.headers = {{"Range", "bytes=999999-"}}}).status, 416);
    EXPECT_EQ(client.get("/some/page", {.headers = {{"If-Match", "\"x\""}}}).status, 412);
    auto part = client.get("/some/page", {.headers = {{"Range", "bytes=0-3"}}});
    EXPECT_EQ(part.status, 206);
    EXPECT_EQ(part.text(), "<h1>");
}

TEST_F(StaticFilesTest, CopiesOfOneFileAnswerKeepTheirOwnRange) {
    App app;
    const auto kept = std::make_shared<Response>(Response::file((root_ / "report.csv").string()));
    app.route("/kept", [kept] { return *kept; });
    TestClient client(std::move(app), quiet());
    EXPECT_EQ(client.get("/kept", {.headers = {{"Range", "bytes=0-2"}}}).text(), "a,b");
    EXPECT_EQ(client.get("/kept").text(), "a,b\n1,2\n");
    EXPECT_EQ(client.get("/kept", {.headers = {{"Range", "bytes=-2"}}}).text(), "2\n");
}

TEST_F(StaticFilesTest, ClientsThatCloseMidFileLeaveTheServerServing) {
    std::ofstream(root_ / "big.bin", std::ios::binary) << std::string(8 << 20, 'b');
    App app;
    app.mount("/files", StaticFiles(root_.string()), "files");
    TestClient client(std::move(app), quiet());
    for (int i = 0; i < 20; ++i) {
        test::RawConnection c(client.port());
        c.send(test::make_request("GET", "/files/big.bin"));
        std::this_thread::sleep_for(std::chrono::milliseconds(i % 3 == 0 ? 5 : 0));
    }  // each closes with most of the file unread, some after reading some
    for (int i = 0; i < 5; ++i) {
        test::RawConnection c(client.port());
        c.send(test::make_request("GET", "/files/big.bin"));
        // Read the head and a little, then close cleanly (FIN), with nothing unread: the
        // server's next sendfile meets EPIPE, which must not be a SIGPIPE.
        (void)c.wait_closed(std::chrono::milliseconds(20));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    EXPECT_EQ(client.get("/files/report.csv").status, 200);
}

}  // namespace
}  // namespace flamecpp
