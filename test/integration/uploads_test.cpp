// Request bodies read as they arrive: multipart forms with files (spooled to temporary files
// past a threshold and removed after the request), Form<T> with UploadFile fields, a handler
// reading the raw body with BodyReader&, and per-route body limits above and below the app's,
// enforced while the body streams in.
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/value.hpp>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <flamecpp/body_reader.hpp>
#include <flamecpp/flamecpp.hpp>
#include <flamecpp/forms.hpp>
#include <flamecpp/json.hpp>
#include <flamecpp/testing.hpp>

#include "http_client.hpp"

namespace {

struct Profile {
    std::string name;
    flamecpp::UploadFile avatar;
    std::optional<flamecpp::UploadFile> banner;
    std::vector<flamecpp::UploadFile> attachments;
};
BOOST_DESCRIBE_STRUCT(Profile, (), (name, avatar, banner, attachments))

}  // namespace

namespace flamecpp {
namespace {

using namespace std::chrono_literals;
using testing::ClientOptions;
using testing::FormFile;
using testing::TestClient;

ClientOptions quiet() { return ClientOptions{.log_level = LogLevel::off}; }

bool file_exists(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0;
}

boost::json::value describe_form(FormData& form) {
    boost::json::object fields;
    for (const auto& [name, value] : form.fields()) {
        auto& values = fields[name];
        if (!values.is_array()) {
            values.emplace_array();
        }
        values.as_array().emplace_back(boost::json::string(value));
    }
    boost::json::array files;
    for (auto& file : form.files()) {
        files.push_back(boost::json::object{
            {"field", boost::json::string(file.field())},
            {"filename", boost::json::string(file.filename())},
            {"content_type", boost::json::string(file.content_type())},
            {"size", file.size()},
            {"in_memory", file.in_memory()},
            {"content", boost::json::string(file.contents())},
        });
    }
    return boost::json::object{{"fields", fields}, {"files", files}};
}

App form_app() {
    App app;
    app.route("/form", describe_form, {Method::post}, "form",
              {.max_body_bytes = std::size_t{8} << 20});
    return app;
}

TEST(MultipartForms, FieldsAndFilesInOrder) {
    TestClient client(form_app(), quiet());
    auto r = client.post("/form", {.form = {{"title", "hello \"world\""}, {"tag", "a"}},
                                   .files = {{"doc", "notes.txt", "line 1\r\nline 2", "text/plain"},
                                             {"doc", "empty.bin", "", "application/x-empty"}}});
    ASSERT_EQ(r.status, 200) << r.text();
    const auto& body = r.json();
    EXPECT_EQ(body.at("fields").at("title").at(0), "hello \"world\"");
    EXPECT_EQ(body.at("fields").at("tag").at(0), "a");
    const auto& files = body.at("files").as_array();
    ASSERT_EQ(files.size(), 2u);
    EXPECT_EQ(files[0].at("field"), "doc");
    EXPECT_EQ(files[0].at("filename"), "notes.txt");
    EXPECT_EQ(files[0].at("content_type"), "text/plain");
    EXPECT_EQ(files[0].at("size"), 14);
    EXPECT_EQ(files[0].at("content"), "line 1\r\nline 2");
    EXPECT_EQ(files[1].at("size"), 0);
    EXPECT_EQ(files[1].at("content_type"), "application/x-empty");
}

TEST(MultipartForms, UrlencodedFormsStillWork) {
    TestClient client(form_app(), quiet());
    auto r = client.post("/form", {.form = {{"a", "1 2"}, {"a", "3"}}});
    ASSERT_EQ(r.status, 200) << r.text();
    EXPECT_EQ(r.json().at("fields").at("a").at(0), "1 2");
    EXPECT_EQ(r.json().at("fields").at("a").at(1), "3");
}

TEST(MultipartForms, LargeFilesAreSpooledAndRemovedAfterTheRequest) {
    App app;
    app.limits().form_spool_bytes = 1024;
    std::string seen_path;
    app.route("/spool",
              [&seen_path](FormData form) {
                  UploadFile* file = form.file("big");
                  if (file == nullptr) {
                      throw HTTPException(Status::bad_request, "no file");
                  }
                  seen_path = file->path();
                  std::string head(10, '\0');
                  const std::size_t n = file->read(head);
                  head.resize(n);
                  return boost::json::value{{"in_memory", file->in_memory()},
                                            {"exists", file_exists(seen_path)},
                                            {"head", head},
                                            {"size", file->size()},
                                            {"small_in_memory", form.file("small")->in_memory()}};
              },
              {Method::post});
    TestClient client(std::move(app), quiet());
    std::string big(100'000, 'x');
    big.replace(0, 10, "0123456789");
    auto r = client.post("/spool", {.files = {{"big", "big.bin", big}, {"small", "s", "tiny"}}});
    ASSERT_EQ(r.status, 200) << r.text();
    EXPECT_EQ(r.json().at("in_memory"), false);
    EXPECT_EQ(r.json().at("exists"), true);
    EXPECT_EQ(r.json().at("head"), "0123456789");
    EXPECT_EQ(r.json().at("size"), 100'000);
    EXPECT_EQ(r.json().at("small_in_memory"), true);
    ASSERT_FALSE(seen_path.empty());
    EXPECT_FALSE(file_exists(seen_path)) << seen_path << " outlived its request";
}

TEST(MultipartForms, SaveAsKeepsTheFile) {
    const std::string target = ::testing::TempDir() + "flamecpp-saved-upload.txt";
    ::unlink(target.c_str());
    App app;
    app.limits().form_spool_bytes = 16;
    app.route("/save",
              [target](FormData form) {
                  form.file("f")->save_as(target);
                  return Response::text("saved");
              },
              {Method::post});
    TestClient client(std::move(app), quiet());
    const std::string content(5000, 'q');
    ASSERT_EQ(client.post("/save", {.files = {{"f", "f.txt", content}}}).status, 200);
    ASSERT_TRUE(file_exists(target));
    struct stat st {};
    ::stat(target.c_str(), &st);
    EXPECT_EQ(st.st_size, 5000);
    ::unlink(target.c_str());
}

TEST(MultipartForms, ManyFilesHoldNoDescriptorsAndShareTheMemoryBudget) {
    App app;
    app.limits().form_spool_bytes = 4096;  // for every file of the form together
    app.route("/many",
              [](FormData& form) {
                  std::size_t in_memory = 0;
                  std::string firsts;
                  for (auto& file : form.files()) {
                      in_memory += file.in_memory() ? 1 : 0;
                      char c = 0;
                      file.read(std::span<char>(&c, 1));
                      firsts += c;
                  }
                  return boost::json::value{
                      {"files", form.files().size()}, {"in_memory", in_memory}, {"firsts", firsts}};
              },
              {Method::post}, "many", {.max_body_bytes = std::size_t{8} << 20});
    TestClient client(std::move(app), quiet());
    std::vector<FormFile> files;
    std::string expected;
    for (int i = 0; i < 40; ++i) {
        const char c = static_cast<char>('a' + i % 26);
        files.push_back({"f", "f" + std::to_string(i), std::string(1000, c)});
        expected += c;
    }
    auto r = client.post("/many", {.files = files});
    ASSERT_EQ(r.status, 200) << r.text();
    EXPECT_EQ(r.json().at("files"), 40);
    EXPECT_EQ(r.json().at("in_memory"), 4);  // 4 x 1000 bytes fit in 4096; the rest spooled
    EXPECT_EQ(r.json().at("firsts").as_string(), expected);
}

TEST(MultipartForms, FormOfAStructWithFiles) {
    App app;
    app.route("/profile",
              [](Form<Profile> form) {
                  return boost::json::value{
                      {"name", form->name},
                      {"avatar", form->avatar.contents()},
                      {"banner", form->banner.has_value()},
                      {"attachments", form->attachments.size()},
                  };
              },
              {Method::post});
    TestClient client(std::move(app), quiet());
    auto r = client.post("/profile", {.form = {{"name", "ada"}},
                                      .files = {{"avatar", "a.png", "PNG"},
                                                {"attachments", "1", "x"},
                                                {"attachments", "2", "y"}}});
    ASSERT_EQ(r.status, 200) << r.text();
    EXPECT_EQ(r.json().at("avatar"), "PNG");
    EXPECT_EQ(r.json().at("banner"), false);
    EXPECT_EQ(r.json().at("attachments"), 2);

    r = client.post("/profile", {.form = {{"name", "ada"}}, .files = {{"banner", "b", "B"}}});
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.json().at("detail"), "form field 'avatar' is required");
    r = client.post("/profile",
                    {.form = {{"name", "ada"}, {"avatar", "text"}}, .files = {{"x", "x", "x"}}});
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.json().at("detail"), "form field 'avatar' must be a file");
}

TEST(MultipartForms, MalformedBodiesAre400AndOtherTypes415) {
    TestClient client(form_app(), quiet());
    const auto post = [&](std::string type, std::string body) {
        return client.post("/form", {.headers = {{"Content-Type", type}}, .body = body});
    };
    auto r = post("multipart/form-data", "--b\r\n");
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.json().at("detail"), "the multipart body's Content-Type has no valid boundary");
    r = post("multipart/form-data; boundary=b", "--b\r\n\r\nvalue\r\n--b--");
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.json().at("detail"), "malformed multipart body: a part has no header section");
    r = post("multipart/form-data; boundary=b",
             "--b\r\nContent-Disposition: form-data; name=a\r\n\r\ntruncated");
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.json().at("detail"),
              "malformed multipart body: the body ends before its closing boundary");
    r = post("text/plain", "a=1");
    EXPECT_EQ(r.status, 415);
    // The connection is still good after each refusal (they were all read to the end).
    EXPECT_EQ(client.post("/form", {.form = {{"a", "1"}}}).status, 200);
}

TEST(MultipartForms, FieldLimits) {
    App app = form_app();
    app.limits().max_form_text_bytes = 10;
    app.limits().max_form_fields = 3;
    TestClient client(std::move(app), quiet());
    auto r = client.post("/form", {.form = {{"long", std::string(11, 'x')}},
                                   .files = {{"f", "f", std::string(1000, 'y')}}});
    EXPECT_EQ(r.status, 413);
    EXPECT_EQ(r.json().at("detail"), "the form's text is larger than 10 bytes");
    // The text fields together, too.
    r = client.post("/form",
                    {.form = {{"a", "123456"}, {"b", "123456"}}, .files = {{"f", "f", "x"}}});
    EXPECT_EQ(r.status, 413);
    // And a urlencoded body, whose fields are counted before they are decoded.
    r = client.post("/form", {.form = {{"a", std::string(20, 'x')}}});
    EXPECT_EQ(r.status, 413);
    r = client.post("/form", {.headers = {{"Content-Type", "application/x-www-form-urlencoded"}},
                              .body = "a&b&c&d"});
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.json().at("detail"), "the form has more than 3 fields");
    EXPECT_EQ(
        client
            .post("/form", {.headers = {{"Content-Type", "application/x-www-form-urlencoded"}},
                            .body = "a&&b&c&"})
            .status,
        200);  // empty pairs are not fields
    r = client.post("/form",
                    {.form = {{"a", "1"}, {"b", "2"}, {"c", "3"}}, .files = {{"f", "f", "x"}}});
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.json().at("detail"), "the form has more than 3 fields");
    // A file is bounded by the route's limit, not the field limit.
    r = client.post("/form", {.form = {{"a", "1"}}, .files = {{"f", "f", std::string(1000, 'y')}}});
    EXPECT_EQ(r.status, 200);
}

Task<boost::json::value> count_body(BodyReader& body) {
    std::uint64_t bytes = 0;
    std::uint64_t chunks = 0;
    std::uint64_t sum = 0;
    const auto declared = body.length();
    while (auto chunk = co_await body.read()) {
        ++chunks;
        bytes += chunk->size();
        for (unsigned char c : *chunk) {
            sum += c;
        }
    }
    co_return boost::json::value{{"bytes", bytes},
                                 {"chunks", chunks},
                                 {"sum", sum},
                                 {"received", body.received()},
                                 {"declared", declared ? boost::json::value(*declared) : nullptr}};
}

Response ignore_body(BodyReader&) { return Response::text("not read"); }

Response whole_body(Request& request) {
    return Response::json(boost::json::value{{"bytes", request.body().size()}});
}

App stream_app() {
    App app;
    app.route("/count", count_body, {Method::post}, "count",
              {.max_body_bytes = std::size_t{8} << 20});
    app.route("/small", count_body, {Method::post}, "small", {.max_body_bytes = 1024});
    app.route("/ignore", ignore_body, {Method::post});
    app.route("/whole", whole_body, {Method::post});
    app.route("/whole-big", whole_body, {Method::post}, "whole-big",
              {.max_body_bytes = std::size_t{4} << 20});
    app.route("/whole-tiny", whole_body, {Method::post}, "whole-tiny", {.max_body_bytes = 100});
    return app;
}

TEST(BodyReaderTest, ReadsALargeBodyInChunks) {
    TestClient client(stream_app(), quiet());
    std::string body(4 << 20, '\0');
    std::uint64_t sum = 0;
    for (std::size_t i = 0; i < body.size(); ++i) {
        body[i] = static_cast<char>(i * 7);
        sum += static_cast<unsigned char>(body[i]);
    }
    auto r = client.post("/count", {.body = body});
    ASSERT_EQ(r.status, 200) << r.text();
    EXPECT_EQ(r.json().at("bytes"), 4 << 20);
    EXPECT_EQ(r.json().at("received"), 4 << 20);
    EXPECT_EQ(r.json().at("declared"), 4 << 20);
    EXPECT_EQ(r.json().at("sum"), sum);
    EXPECT_GT(r.json().at("chunks").as_int64(), 16);  // it arrived as it was sent
    // An empty body, and the connection kept for the next request.
    r = client.post("/count", {.body = ""});
    EXPECT_EQ(r.json().at("bytes"), 0);
    EXPECT_EQ(r.json().at("chunks"), 0);
}

TEST(BodyReaderTest, AChunkedBodyAndPipelinedRequestsAfterIt) {
    TestClient client(stream_app(), quiet());
    test::RawConnection c(client.port());
    c.send(
        "POST /count HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        "3\r\nabc\r\n"
        "4\r\ndefg\r\n0\r\n\r\n"
        "POST /whole HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi");
    auto first = c.read_response();
    ASSERT_EQ(first.status, 200) << first.body;
    EXPECT_NE(first.body.find("\"bytes\":7"), std::string::npos) << first.body;
    EXPECT_NE(first.body.find("\"declared\":null"), std::string::npos) << first.body;
    auto second = c.read_response();
    EXPECT_EQ(second.status, 200);
    EXPECT_EQ(second.body, R"({"bytes":2})");
}

TEST(BodyReaderTest, ABodyCrossingTheRouteLimitIs413AndClose) {
    TestClient client(stream_app(), quiet());
    test::RawConnection c(client.port());
    c.send("POST /small HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (int i = 0; i < 3; ++i) {
        c.try_send("200\r\n" + std::string(512, 'z') + "\r\n");
    }
    auto r = c.read_response();
    EXPECT_EQ(r.status, 413);
    EXPECT_NE(r.body.find("larger than 1024 bytes"), std::string::npos) << r.body;
    EXPECT_TRUE(c.wait_closed(3s));
}

TEST(BodyReaderTest, ADeclaredLengthOverTheLimitIs413BeforeTheBody) {
    TestClient client(stream_app(), quiet());
    for (const char* path : {"/small", "/whole-tiny", "/whole"}) {
        test::RawConnection c(client.port());
        c.send(std::string("POST ") + path +
               " HTTP/1.1\r\nHost: x\r\nContent-Length: 209715200\r\n\r\n");
        auto r = c.read_response();  // no body byte sent
        EXPECT_EQ(r.status, 413) << path;
        EXPECT_TRUE(r.header_has_token("Connection", "close")) << path;
    }
}

TEST(BodyReaderTest, RouteLimitsAboveAndBelowTheAppDefault) {
    TestClient client(stream_app(), quiet());
    const std::string two_mib(2 << 20, 'b');
    EXPECT_EQ(client.post("/whole", {.body = two_mib}).status, 413);  // the app's 1 MiB
    auto r = client.post("/whole-big", {.body = two_mib});
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.json().at("bytes"), 2 << 20);
    EXPECT_EQ(client.post("/whole-tiny", {.body = std::string(100, 'c')}).status, 200);
    EXPECT_EQ(client.post("/whole-tiny", {.body = std::string(101, 'c')}).status, 413);
}

TEST(BodyReaderTest, AChunkLineWithoutEndIs400NotABufferWithoutEnd) {
    TestClient client(stream_app(), quiet());
    for (const char* path : {"/count", "/whole"}) {
        test::RawConnection c(client.port());
        c.send(std::string("POST ") + path +
               " HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=");
        bool sent = true;
        for (int i = 0; i < 8 && sent; ++i) {
            sent = c.try_send(std::string(4096, 'e'));
        }
        auto r = c.read_response();
        EXPECT_EQ(r.status, 400) << path;
        EXPECT_TRUE(c.wait_closed(3s)) << path;
    }
}

TEST(BodyReaderTest, AnUnreadBodyClosesTheConnectionAfterTheAnswer) {
    TestClient client(stream_app(), quiet());
    test::RawConnection c(client.port());
    c.send("POST /ignore HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n" +
           std::string(1000, 'x'));
    auto r = c.read_response();
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "not read");
    EXPECT_TRUE(r.header_has_token("Connection", "close"));
    EXPECT_TRUE(c.wait_closed(5s));
}

TEST(BodyReaderTest, ExpectContinueIsAnsweredWhenTheHandlerReads) {
    TestClient client(stream_app(), quiet());
    test::RawConnection c(client.port());
    c.send("POST /count HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
    auto interim = c.read_response();
    EXPECT_EQ(interim.status, 100);
    c.send("hello");
    auto r = c.read_response();
    EXPECT_EQ(r.status, 200);
    EXPECT_NE(r.body.find("\"bytes\":5"), std::string::npos) << r.body;
}

TEST(BodyReaderTest, AClientThatStopsSendingIsDroppedAfterTheBodyTimeout) {
    App app = stream_app();
    app.limits().body_timeout = 300ms;
    TestClient client(std::move(app), quiet());
    test::RawConnection c(client.port());
    c.send("POST /count HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc");
    auto r = c.read_response(5s);
    EXPECT_EQ(r.status, 408);
    EXPECT_TRUE(c.wait_closed(3s));
}

TEST(BodyReaderTest, AClientThatLeavesMidBodyFreesTheConnection) {
    TestClient client(stream_app(), quiet());
    {
        test::RawConnection c(client.port());
        c.send("POST /count HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc");
        c.shutdown_write();
        EXPECT_TRUE(c.wait_closed(3s));
    }
    EXPECT_EQ(client.post("/count", {.body = "ok"}).status, 200);  // the server lives on
}

}  // namespace
}  // namespace flamecpp
