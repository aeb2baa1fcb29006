// Integration tests of the `site` sample against the samples' contract (docs/samples.md): the
// rules every sample shares (sample_contract_tests.hpp) and the `site` rows of the application
// layer (middleware, exception handlers, Basic authentication, sessions, the WebSocket ticker,
// the API mount, background jobs, lifespan, static files), over real loopback sockets against
// the binary.
#include <algorithm>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "contract_checks.hpp"
#include "gzip.hpp"
#include "http_client.hpp"
#include "process.hpp"
#include "sample_contract_tests.hpp"
#include "ws_client.hpp"

#ifndef FLAMECPP_SAMPLE_SITE
#error "FLAMECPP_SAMPLE_SITE must be defined as the path of the site sample executable"
#endif

namespace flamecpp::test {
namespace {

using namespace std::chrono_literals;
using Headers = std::vector<std::pair<std::string, std::string>>;

constexpr std::string_view kItems = R"([{"id":1,"name":"alpha"},{"id":2,"name":"beta"}])";
constexpr std::string_view kAlpha = R"({"id":1,"name":"alpha"})";

constexpr Exchange kSitePipeline[] = {
    {"/api/v1/items", 200, kItems},
    {"/api/v1/items/1", 200, kAlpha},
    {"/api/v1/items/2", 200, R"({"id":2,"name":"beta"})"},
};

constexpr Probe kSiteProbes[] = {
    {"GET", "/api/v1/items"}, {"GET", "/api/v1/items/9"}, {"GET", "/nowhere"},
    {"GET", "/teapot"},       {"GET", "/boom"},           {"GET", "/admin"},
    {"GET", "/session"},      {"OPTIONS", "/session"},    {"POST", "/session"},
};

constexpr SampleTraits kSite{
    .name = "site",
    .executable = FLAMECPP_SAMPLE_SITE,
    .ok = {"/api/v1/items", 200, kItems},
    .next = {"/api/v1/items/1", 200, kAlpha},
    .pipeline = kSitePipeline,
    .probes = kSiteProbes,
    .post_status = 405,
    .not_found_type = "text/html",
};

INSTANTIATE_TEST_SUITE_P(SiteContract, CommandLine, ::testing::Values(kSite));
INSTANTIATE_TEST_SUITE_P(SiteContract, Lifecycle, ::testing::Values(kSite));
INSTANTIATE_TEST_SUITE_P(SiteContract, Http, ::testing::Values(kSite));
INSTANTIATE_TEST_SUITE_P(SiteContract, Limits, ::testing::Values(kSite));
INSTANTIATE_TEST_SUITE_P(SiteContract, SlowLimits, ::testing::Values(kSite));

// ---------------------------------------------------------------------------------------------
// Helpers.

Response Send(std::uint16_t port,
              std::string_view method,
              std::string_view target,
              const Headers& headers = {},
              std::string_view body = {}) {
    RawConnection c(port);
    Headers all = headers;
    if (body.empty() && method != "GET" && method != "HEAD" && method != "OPTIONS") {
        all.emplace_back("Content-Length", "0");
    }
    c.send(make_request(method, target, all, body));
    return c.read_response(kIo);
}

/// A GET with `host` as its only Host header (make_request adds one of its own).
Response GetWithHost(std::uint16_t port, std::string_view target, std::string_view host) {
    RawConnection c(port);
    c.send("GET " + std::string(target) + " HTTP/1.1\r\nHost: " + std::string(host) + "\r\n\r\n");
    return c.read_response(kIo);
}

boost::json::value JsonOf(const Response& r) {
    boost::system::error_code ec;
    boost::json::value v = boost::json::parse(r.body, ec);
    EXPECT_FALSE(ec) << "status " << r.status << ": the body is not JSON: " << r.body;
    return ec ? boost::json::value() : v;
}

void ExpectJson(const Response& r, int status, std::string_view expected) {
    EXPECT_EQ(r.status, status) << "body: " << r.body;
    EXPECT_TRUE(starts_with_ci(r.header("Content-Type").value_or(""), "application/json"))
        << "Content-Type: " << r.header("Content-Type").value_or("<none>");
    EXPECT_EQ(JsonOf(r), boost::json::parse(expected)) << "body: " << r.body;
    ExpectCommonHeaders(r);
}

std::optional<std::string> HeaderValue(const HeaderList& headers, std::string_view name) {
    for (const auto& [n, v] : headers) {
        if (lowercase(n) == lowercase(name)) {
            return v;
        }
    }
    return std::nullopt;
}

bool IsUuid4(const std::string& id) {
    static const std::regex uuid4(
        "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
    return std::regex_match(id, uuid4);
}

/// The site with its stderr in a file, to read its log lines.
struct LoggedSite {
    std::string log_path;
    SampleProcess process;

    explicit LoggedSite(std::vector<std::string> flags = {})
        : log_path(::testing::TempDir() + "site_" + std::to_string(::getpid()) + "_" +
                   std::to_string(counter++) + ".log"),
          process(Launch(log_path, std::move(flags))) {}

    static SampleProcess Launch(const std::string& log, std::vector<std::string> flags) {
        std::vector<std::string> args = {"-c", "exec \"$0\" --port 0 \"$@\" 2>\"$LOG\"",
                                         FLAMECPP_SAMPLE_SITE};
        args.insert(args.end(), flags.begin(), flags.end());
        SpawnOptions options;
        options.env.push_back("LOG=" + log);
        SampleProcess p("/bin/sh", std::move(args), options);
        p.wait_for_listening();
        return p;
    }

    std::string log() const {
        std::ifstream in(log_path);
        std::stringstream text;
        text << in.rdbuf();
        return text.str();
    }

    inline static int counter = 0;
};

/// One site process for the tests that only ask it things, started with every flag the
/// middleware rows need.
class Site : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        process = new SampleProcess(SampleProcess::start(
            FLAMECPP_SAMPLE_SITE,
            {"--allowed-host", "127.0.0.1", "--allowed-host", "site.example", "--cors-origin",
             "https://app.example", "--secret", "test-key", "--log-level", "error"}));
    }
    static void TearDownTestSuite() {
        delete process;
        process = nullptr;
    }
    static std::uint16_t port() { return process->port(); }
    inline static SampleProcess* process = nullptr;
};

// ---------------------------------------------------------------------------------------------
// App-wide middleware, on every answer the app gives.

TEST_F(Site, EveryAnswerCarriesARequestId) {
    EXPECT_EQ(Send(port(), "GET", "/api/v1/items", {{"X-Request-ID", "abc-123_X.y"}})
                  .header("X-Request-ID"),
              "abc-123_X.y");
    for (const auto& [method, target] : std::vector<std::pair<std::string, std::string>>{
             {"GET", "/api/v1/items"},
             {"GET", "/nowhere"},
             {"POST", "/session"},     // 405
             {"OPTIONS", "/session"},  // the automatic OPTIONS answer
             {"GET", "/boom"},         // 500
             {"GET", "/teapot"}}) {
        const Response r = Send(port(), method, target, {{"X-Request-ID", "bad id!"}});
        EXPECT_TRUE(IsUuid4(r.header("X-Request-ID").value_or("")))
            << method << " " << target << ": " << r.header("X-Request-ID").value_or("<none>");
        EXPECT_EQ(r.header_count("X-Request-ID"), 1u) << method << " " << target;
    }
    const Response refused = GetWithHost(port(), "/api/v1/items", "evil.example");
    EXPECT_EQ(refused.status, 400);
    EXPECT_TRUE(IsUuid4(refused.header("X-Request-ID").value_or("")));
    RawWebSocket ws(port(), "/ws/ticker", {{"X-Request-ID", "ws-42"}});
    EXPECT_EQ(HeaderValue(ws.handshake_headers(), "X-Request-ID"), "ws-42");
}

TEST_F(Site, HostsNotAllowedAreRefused) {
    for (const char* host : {"evil.example", "site.example.evil", "127.0.0.2"}) {
        const Response r = GetWithHost(port(), "/api/v1/items", host);
        EXPECT_EQ(r.status, 400) << host;
        EXPECT_EQ(r.body, "Invalid host header") << host;
        EXPECT_TRUE(starts_with_ci(r.header("Content-Type").value_or(""), "text/plain"));
    }
    EXPECT_EQ(GetWithHost(port(), "/api/v1/items", "site.example:8443").status,
              200);  // the port part is ignored
    try {
        RawWebSocket ws(port(), "/ws/ticker", {{"Host", "evil.example"}});
        FAIL() << "the upgrade from another host should have been refused";
    } catch (const HandshakeRejected& e) {
        EXPECT_EQ(e.status, 400);
        EXPECT_EQ(e.body, "Invalid host header");
    }
}

TEST_F(Site, CorsPreflightAndSimpleRequests) {
    const Response ok = Send(port(), "OPTIONS", "/api/v1/items",
                             {{"Origin", "https://app.example"},
                              {"Access-Control-Request-Method", "PUT"},
                              {"Access-Control-Request-Headers", "X-Token, Content-Type"}});
    EXPECT_EQ(ok.status, 200);
    EXPECT_EQ(ok.body, "");
    EXPECT_EQ(ok.header("Access-Control-Allow-Origin"), "https://app.example");
    EXPECT_TRUE(ok.header_has_token("Access-Control-Allow-Methods", "PUT"))
        << ok.header("Access-Control-Allow-Methods").value_or("<none>");
    EXPECT_TRUE(ok.header_has_token("Access-Control-Allow-Headers", "X-Token"));
    EXPECT_TRUE(ok.header_has_token("Access-Control-Allow-Headers", "Content-Type"));
    EXPECT_TRUE(ok.header("Access-Control-Max-Age"));
    EXPECT_TRUE(ok.header_has_token("Vary", "Origin"));
    ExpectCommonHeaders(ok);

    const Response other =
        Send(port(), "OPTIONS", "/api/v1/items",
             {{"Origin", "https://evil.example"}, {"Access-Control-Request-Method", "GET"}});
    EXPECT_EQ(other.status, 400);
    EXPECT_EQ(other.body, "Disallowed CORS origin");

    const Response simple =
        Send(port(), "GET", "/api/v1/items", {{"Origin", "https://app.example"}});
    EXPECT_EQ(simple.header("Access-Control-Allow-Origin"), "https://app.example");
    EXPECT_TRUE(simple.header_has_token("Vary", "Origin"));
    const Response unlisted =
        Send(port(), "GET", "/api/v1/items", {{"Origin", "https://evil.example"}});
    EXPECT_EQ(unlisted.status, 200);
    for (const auto& [name, value] : unlisted.headers) {
        EXPECT_FALSE(starts_with_ci(name, "Access-Control-")) << name << ": " << value;
    }
}

TEST_F(Site, LargeTextAnswersAreGzippedForClientsThatAcceptIt) {
    const Response plain = Send(port(), "GET", "/nowhere");
    ASSERT_GE(plain.body.size(), 500u) << "the row needs an answer of 500 bytes or more";
    const Response gz = Send(port(), "GET", "/nowhere", {{"Accept-Encoding", "gzip, br"}});
    EXPECT_EQ(gz.status, 404);
    EXPECT_EQ(gz.header("Content-Encoding"), "gzip");
    EXPECT_TRUE(gz.header_has_token("Vary", "Accept-Encoding"));
    EXPECT_EQ(gunzip(gz.body), plain.body);
    ExpectCommonHeaders(gz);  // Content-Length counts the compressed bytes

    EXPECT_FALSE(Send(port(), "GET", "/nowhere", {{"Accept-Encoding", "identity"}})
                     .header("Content-Encoding"));
    EXPECT_FALSE(Send(port(), "GET", "/nowhere", {{"Accept-Encoding", "gzip;q=0"}})
                     .header("Content-Encoding"));
    const Response small = Send(port(), "GET", "/api/v1/items", {{"Accept-Encoding", "gzip"}});
    EXPECT_FALSE(small.header("Content-Encoding"));
    EXPECT_EQ(small.body, kItems);
}

// ---------------------------------------------------------------------------------------------
// Exception handlers and routes.

TEST_F(Site, ExceptionHandlersMakeThe404418And500) {
    const Response missing = Send(port(), "GET", "/nowhere");
    EXPECT_EQ(missing.status, 404);
    EXPECT_EQ(missing.header("Content-Type"), "text/html; charset=utf-8");
    ExpectJson(Send(port(), "GET", "/teapot"), 418, R"({"detail":"I'm a teapot"})");
    ExpectJson(Send(port(), "GET", "/boom"), 500, R"({"detail":"Internal Server Error"})");
    EXPECT_EQ(Send(port(), "GET", "/api/v1/items").status, 200);  // still serving
}

TEST_F(Site, AdminNeedsBasicCredentials) {
    for (const Headers& headers :
         {Headers{}, Headers{{"Authorization", "Basic YWRtaW46d3Jvbmc="}},  // admin:wrong
          Headers{{"Authorization", "Bearer YWRtaW46c2VjcmV0"}},
          Headers{{"Authorization", "Basic !!"}}}) {
        const Response r = Send(port(), "GET", "/admin", headers);
        EXPECT_EQ(r.status, 401);
        EXPECT_EQ(r.header("WWW-Authenticate"), "Basic realm=\"site\"");
    }
    ExpectJson(Send(port(), "GET", "/admin", {{"Authorization", "Basic YWRtaW46c2VjcmV0"}}), 200,
               R"({"user":"admin"})");
}

TEST_F(Site, SessionCountsVisitsInASignedCookie) {
    const Response first = Send(port(), "GET", "/session");
    ExpectJson(first, 200, R"({"visits":1})");
    const std::string set_cookie = first.header("Set-Cookie").value_or("");
    EXPECT_TRUE(set_cookie.starts_with("session=")) << set_cookie;
    EXPECT_TRUE(contains_ci(set_cookie, "HttpOnly")) << set_cookie;
    EXPECT_TRUE(contains_ci(set_cookie, "SameSite=Lax")) << set_cookie;
    EXPECT_TRUE(contains_ci(set_cookie, "Path=/")) << set_cookie;
    const std::string cookie = set_cookie.substr(0, set_cookie.find(';'));
    const Response second = Send(port(), "GET", "/session", {{"Cookie", cookie}});
    ExpectJson(second, 200, R"({"visits":2})");

    std::string tampered = cookie;
    tampered[tampered.find('=') + 2] ^= 1;
    for (const std::string& bad :
         {tampered, std::string("session=garbage"), std::string("session=a.b.c"), cookie + "x"}) {
        ExpectJson(Send(port(), "GET", "/session", {{"Cookie", bad}}), 200, R"({"visits":1})");
    }
}

TEST_F(Site, TheTickerSendsACountEvery100Ms) {
    RawWebSocket ws(port(), "/ws/ticker");
    EXPECT_TRUE(HeaderValue(ws.handshake_headers(), "X-Request-ID"));
    const auto start = std::chrono::steady_clock::now();
    for (int k = 1; k <= 4; ++k) {
        auto frame = ws.read_frame(2s);
        ASSERT_TRUE(frame);
        EXPECT_EQ(frame->opcode, 1);
        EXPECT_EQ(boost::json::parse(frame->payload),
                  boost::json::parse("{\"n\":" + std::to_string(k) + "}"));
    }
    const auto took = std::chrono::steady_clock::now() - start;
    EXPECT_GE(took, 250ms);  // ticks 2..4 came 100 ms apart
    EXPECT_LT(took, 2s);
}

// ---------------------------------------------------------------------------------------------
// The API mount.

TEST_F(Site, TheMountsMiddlewareMarksAnswersUnderItOnly) {
    for (const char* target : {"/api/v1/items", "/api/v1/items/9", "/api/v1/nowhere"}) {
        EXPECT_EQ(Send(port(), "GET", target).header("X-API-Version"), "1") << target;
    }
    EXPECT_EQ(Send(port(), "POST", "/api/v1/items").header("X-API-Version"), "1");
    for (const char* target : {"/session", "/nowhere", "/teapot"}) {
        EXPECT_FALSE(Send(port(), "GET", target).header("X-API-Version")) << target;
    }
}

TEST_F(Site, ItemsAndTheirErrors) {
    ExpectJson(Send(port(), "GET", "/api/v1/items"), 200, kItems);
    ExpectJson(Send(port(), "GET", "/api/v1/items/2"), 200, R"({"id":2,"name":"beta"})");
    ExpectJson(Send(port(), "GET", "/api/v1/items/9"), 404, R"({"detail":"item 9 not found"})");
}

TEST_F(Site, LinksAreAbsoluteForTheRequestsHost) {
    const Response r = GetWithHost(port(), "/api/v1/links", "site.example:8080");
    ASSERT_EQ(r.status, 200) << r.body;
    const auto v = JsonOf(r);
    EXPECT_EQ(v.at("self"), "http://site.example:8080/api/v1/links");
    EXPECT_EQ(v.at("item"), "http://site.example:8080/api/v1/items/7");
    EXPECT_EQ(v.at("static"), "http://site.example:8080/static/app.js");
}

TEST_F(Site, JobsRunAfterTheirAnswer) {
    const auto asked = std::chrono::steady_clock::now();
    const Response accepted = Send(port(), "POST", "/api/v1/jobs");
    EXPECT_EQ(accepted.status, 202);
    EXPECT_LT(std::chrono::steady_clock::now() - asked, 250ms) << "the answer waited for the job";
    const auto id = JsonOf(accepted).at("id").as_int64();
    const std::string target = "/api/v1/jobs/" + std::to_string(id);
    ExpectJson(Send(port(), "GET", target), 200,
               R"({"id":)" + std::to_string(id) + R"(,"done":false})");
    std::this_thread::sleep_for(1s);
    ExpectJson(Send(port(), "GET", target), 200,
               R"({"id":)" + std::to_string(id) + R"(,"done":true})");
    ExpectJson(Send(port(), "GET", "/api/v1/jobs/999999"), 404,
               R"({"detail":"job 999999 not found"})");
}

// ---------------------------------------------------------------------------------------------
// Static files: the sample's folder copied to a temporary one (--static), with what a test
// needs beside it: symlinks in and out, a subfolder, a 1 GiB sparse file.

namespace fs = std::filesystem;

/// The folder the build puts beside the site executable.
fs::path SampleStaticFolder() { return fs::path(FLAMECPP_SAMPLE_SITE).parent_path() / "static"; }

std::string ReadFile(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    return bytes.str();
}

constexpr std::uint64_t kBigFile = std::uint64_t{1} << 30;

class SiteStatic : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        base = new fs::path(fs::path(::testing::TempDir()) /
                            ("site-static-" + std::to_string(::getpid())));
        fs::remove_all(*base);
        const fs::path root = *base / "static";
        fs::create_directories(root / "sub");
        fs::create_directories(*base / "outside");
        fs::copy(SampleStaticFolder(), root, fs::copy_options::recursive);
        std::ofstream(*base / "outside/secret.txt") << "secret";
        std::ofstream(root / "sub/inner.txt") << "inner";
        fs::create_symlink(*base / "outside/secret.txt", root / "escape-absolute.txt");
        fs::create_symlink("../outside/secret.txt", root / "escape-relative.txt");
        fs::create_symlink("../outside", root / "escape-dir");
        fs::create_symlink("notes.txt", root / "inside-link.txt");
        fs::resize_file((std::ofstream(root / "big.bin"), root / "big.bin"), kBigFile);
        SpawnOptions options = small_asan_quarantine();
        process = new SampleProcess(SampleProcess::start(
            FLAMECPP_SAMPLE_SITE, {"--static", root.string(), "--log-level", "error"}, options));
    }
    static void TearDownTestSuite() {
        delete process;
        process = nullptr;
        fs::remove_all(*base);
        delete base;
        base = nullptr;
    }
    static std::uint16_t port() { return process->port(); }
    static std::string Original(std::string_view name) {
        return ReadFile(SampleStaticFolder() / std::string(name));
    }
    inline static SampleProcess* process = nullptr;
    inline static fs::path* base = nullptr;
};

TEST_F(SiteStatic, TheIndexPageAtTheRoot) {
    const Response r = Send(port(), "GET", "/");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.header("Content-Type"), "text/html; charset=utf-8");
    EXPECT_EQ(r.body, Original("index.html"));
    ExpectCommonHeaders(r);
}

TEST_F(SiteStatic, FilesWithTheirTypeAndValidators) {
    const std::pair<const char*, const char*> files[] = {
        {"index.html", "text/html; charset=utf-8"},
        {"style.css", "text/css; charset=utf-8"},
        {"app.js", "text/javascript; charset=utf-8"},
        {"data.json", "application/json"},
        {"logo.png", "image/png"},
        {"logo.svg", "image/svg+xml"},
        {"notes.txt", "text/plain; charset=utf-8"},
        {"blob.xyz", "application/octet-stream"},
    };
    for (const auto& [name, type] : files) {
        SCOPED_TRACE(name);
        const Response r = Send(port(), "GET", std::string("/static/") + name);
        EXPECT_EQ(r.status, 200);
        EXPECT_EQ(r.header("Content-Type"), type);
        EXPECT_EQ(r.body, Original(name));
        EXPECT_EQ(r.header("Content-Length"), std::to_string(r.body.size()));
        EXPECT_EQ(r.header("Accept-Ranges"), "bytes");
        const auto etag = r.header("ETag").value_or("");
        EXPECT_TRUE(etag.size() > 2 && etag.front() == '"' && etag.back() == '"') << etag;
        const auto modified = parse_imf_fixdate(r.header("Last-Modified").value_or(""));
        ASSERT_TRUE(modified.has_value()) << r.header("Last-Modified").value_or("<none>");
        const auto mtime = fs::last_write_time(*base / "static" / name);
        const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(
                                 std::chrono::file_clock::to_sys(mtime).time_since_epoch())
                                 .count();
        EXPECT_EQ(*modified, seconds);
        ExpectCommonHeaders(r);
    }
}

TEST_F(SiteStatic, ConditionalRequestsAnswer304WithTheSameETag) {
    const Response first = Send(port(), "GET", "/static/notes.txt");
    const std::string etag = first.header("ETag").value_or("");
    const std::string modified = first.header("Last-Modified").value_or("");
    const Headers matching[] = {
        {{"If-None-Match", etag}},
        {{"If-None-Match", "*"}},
        {{"If-None-Match", "\"other\", W/" + etag}},
        {{"If-Modified-Since", modified}},
        {{"If-Modified-Since", "Fri, 01 Jan 2100 00:00:00 GMT"}},
    };
    for (const auto& headers : matching) {
        SCOPED_TRACE(headers.front().first + ": " + headers.front().second);
        const Response r = Send(port(), "GET", "/static/notes.txt", headers);
        EXPECT_EQ(r.status, 304);
        EXPECT_EQ(r.body, "");
        EXPECT_EQ(r.header("ETag"), etag);
        EXPECT_FALSE(r.header("Content-Length"));
        ExpectCommonHeaders(r);
    }
    // If-None-Match decides alone when both are there (RFC 9110 13.2.2).
    EXPECT_EQ(Send(port(), "GET", "/static/notes.txt",
                   {{"If-None-Match", "\"other\""}, {"If-Modified-Since", modified}})
                  .status,
              200);
    EXPECT_EQ(Send(port(), "GET", "/static/notes.txt",
                   {{"If-Modified-Since", "Thu, 01 Jan 1970 00:00:00 GMT"}})
                  .status,
              200);
}

TEST_F(SiteStatic, SingleRangesAnd416) {
    const std::string js = Original("app.js");
    const std::string size = std::to_string(js.size());
    struct Case {
        const char* range;
        std::size_t first;
        std::size_t last;
    };
    const Case cases[] = {
        {"bytes=0-9", 0, 9},
        {"bytes=100-", 100, js.size() - 1},
        {"bytes=-20", js.size() - 20, js.size() - 1},
        {"bytes=10-999999", 10, js.size() - 1},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.range);
        const Response r = Send(port(), "GET", "/static/app.js",
                                {{"Range", c.range}, {"Accept-Encoding", "gzip"}});
        EXPECT_EQ(r.status, 206);
        EXPECT_EQ(r.header("Content-Range"),
                  "bytes " + std::to_string(c.first) + "-" + std::to_string(c.last) + "/" + size);
        EXPECT_EQ(r.body, js.substr(c.first, c.last - c.first + 1));
        EXPECT_FALSE(r.header("Content-Encoding")) << "a 206 is sent as it is";
        ExpectCommonHeaders(r);
    }
    const Response past = Send(port(), "GET", "/static/app.js", {{"Range", "bytes=999999-"}});
    EXPECT_EQ(past.status, 416);
    EXPECT_EQ(past.header("Content-Range"), "bytes */" + size);
    ExpectCommonHeaders(past);
    for (const char* malformed : {"bytes=5-1", "bytes=x-y", "lines=1-2", "bytes"}) {
        const Response r = Send(port(), "GET", "/static/app.js", {{"Range", malformed}});
        EXPECT_EQ(r.status, 200) << malformed;
        EXPECT_EQ(r.body, js) << malformed;
    }
    const Response several = Send(port(), "GET", "/static/app.js", {{"Range", "bytes=0-1,5-6"}});
    EXPECT_EQ(several.status, 200);
    EXPECT_EQ(several.body, js);
}

TEST_F(SiteStatic, IfRangeWithAStaleValidatorSendsTheWholeFile) {
    const Response first = Send(port(), "GET", "/static/app.js");
    const std::string etag = first.header("ETag").value_or("");
    const std::string modified = first.header("Last-Modified").value_or("");
    EXPECT_EQ(
        Send(port(), "GET", "/static/app.js", {{"Range", "bytes=0-9"}, {"If-Range", etag}}).status,
        206);
    EXPECT_EQ(
        Send(port(), "GET", "/static/app.js", {{"Range", "bytes=0-9"}, {"If-Range", modified}})
            .status,
        206);
    for (const std::string stale : {std::string("\"stale\""), std::string("W/") + etag,
                                    std::string("Thu, 01 Jan 1970 00:00:00 GMT")}) {
        const Response r =
            Send(port(), "GET", "/static/app.js", {{"Range", "bytes=0-9"}, {"If-Range", stale}});
        EXPECT_EQ(r.status, 200) << stale;
        EXPECT_EQ(r.body, first.body) << stale;
    }
}

TEST_F(SiteStatic, HeadHasTheGetHeadersAndNoBody) {
    for (const Headers& headers : {Headers{}, Headers{{"Range", "bytes=0-9"}}}) {
        const Response get = Send(port(), "GET", "/static/style.css", headers);
        RawConnection c(port());
        c.send(make_request("HEAD", "/static/style.css", headers));
        const Response head = c.read_response(kIo, /*head_request=*/true);
        EXPECT_EQ(head.status, get.status);
        for (const char* name :
             {"Content-Type", "Content-Length", "ETag", "Last-Modified", "Content-Range"}) {
            EXPECT_EQ(head.header(name), get.header(name)) << name;
        }
        EXPECT_EQ(head.body, "");
        // The connection carries on: no body bytes were sent after the head.
        c.send(make_request("GET", "/static/notes.txt"));
        EXPECT_EQ(c.read_response(kIo).body, Original("notes.txt"));
    }
}

TEST_F(SiteStatic, PathsThatLeaveTheFolderDirectoriesAndMissingFilesAre404) {
    for (const char* target :
         {"/static/../site", "/static/%2e%2e/site", "/static/%2E%2E/%2E%2E/etc/passwd",
          "/static/sub%2finner.txt", "/static/sub%2Finner.txt", "/static/sub\\inner.txt",
          "/static/sub%5cinner.txt", "/static/notes.txt%00.png", "/static//etc/passwd",
          "/static/%2fetc%2fpasswd", "/static/escape-absolute.txt", "/static/escape-relative.txt",
          "/static/escape-dir/secret.txt", "/static/sub", "/static/sub/", "/static/",
          "/static/missing.txt", "/static/notes.txt/"}) {
        SCOPED_TRACE(target);
        const Response r = Send(port(), "GET", target);
        EXPECT_EQ(r.status, 404);
        EXPECT_EQ(r.body.find("secret"), std::string::npos);
        ExpectCommonHeaders(r);
    }
    // A symlink that stays inside the folder is served.
    EXPECT_EQ(Send(port(), "GET", "/static/inside-link.txt").body, Original("notes.txt"));
    EXPECT_EQ(Send(port(), "GET", "/static/sub/inner.txt").body, "inner");
}

TEST_F(SiteStatic, OtherMethodsAre405) {
    const Response r = Send(port(), "POST", "/static/app.js");
    EXPECT_EQ(r.status, 405);
    EXPECT_EQ(r.header("Allow"), "GET, HEAD");
    ExpectCommonHeaders(r);
}

TEST_F(SiteStatic, LargeCompressibleFilesAreGzipped) {
    const Response gz = Send(port(), "GET", "/static/app.js", {{"Accept-Encoding", "gzip"}});
    EXPECT_EQ(gz.status, 200);
    EXPECT_EQ(gz.header("Content-Encoding"), "gzip");
    EXPECT_TRUE(gz.header_has_token("Vary", "Accept-Encoding"));
    EXPECT_EQ(gunzip(gz.body), Original("app.js"));
    EXPECT_TRUE(gz.header("ETag").value_or("").starts_with("W/"));
    ExpectCommonHeaders(gz);
    // A 304 for the compressed one's weak tag, sent as it is.
    const Response again =
        Send(port(), "GET", "/static/app.js",
             {{"Accept-Encoding", "gzip"}, {"If-None-Match", *gz.header("ETag")}});
    EXPECT_EQ(again.status, 304);
    EXPECT_FALSE(again.header("Content-Encoding"));
    // Small files and images are not.
    EXPECT_FALSE(Send(port(), "GET", "/static/notes.txt", {{"Accept-Encoding", "gzip"}})
                     .header("Content-Encoding"));
    EXPECT_FALSE(Send(port(), "GET", "/static/logo.png", {{"Accept-Encoding", "gzip"}})
                     .header("Content-Encoding"));
}

/// A plain socket for the 1 GiB and the endless-stream rows: RawConnection keeps what it reads.
class Downloader {
public:
    explicit Downloader(std::uint16_t port, std::string_view target = "/static/big.bin")
        : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(port);
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (fd_ < 0 || ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
            throw std::runtime_error("cannot connect");
        }
        const std::string request = make_request("GET", target);
        if (::send(fd_, request.data(), request.size(), MSG_NOSIGNAL) !=
            static_cast<ssize_t>(request.size())) {
            throw std::runtime_error("cannot send");
        }
    }
    ~Downloader() { ::close(fd_); }
    Downloader(const Downloader&) = delete;
    Downloader& operator=(const Downloader&) = delete;

    /// Reads up to `limit` bytes (head and body); 0 when the connection ended.
    std::size_t read(std::size_t limit = sizeof(buffer_)) {
        const ssize_t n = ::recv(fd_, buffer_, std::min(limit, sizeof(buffer_)), 0);
        return n > 0 ? static_cast<std::size_t>(n) : 0;
    }
    /// What the last read() got.
    std::string_view last(std::size_t n) const { return {buffer_, n}; }

private:
    int fd_;
    char buffer_[256 * 1024];
};

TEST_F(SiteStatic, AOneGibFileInConstantMemoryWhileASlowReaderStallsNobody) {
    // A reader that takes the head and a little, then stops reading.
    Downloader slow(port());
    ASSERT_GT(slow.read(1024), 0u);
    const long baseline = rss_kib(process->pid());
    Downloader fast(port());
    std::uint64_t total = 0;
    long peak = baseline;
    int sample = 0;
    const auto deadline = std::chrono::steady_clock::now() + 90s;
    while (total < kBigFile && std::chrono::steady_clock::now() < deadline) {
        const std::size_t n = fast.read();
        if (n == 0) {
            break;
        }
        total += n;
        if (++sample % 256 == 0) {
            peak = std::max(peak, rss_kib(process->pid()));
            // The stalled reader holds only its own connection.
            const auto asked = std::chrono::steady_clock::now();
            EXPECT_EQ(Send(port(), "GET", "/static/notes.txt").status, 200);
            EXPECT_LT(std::chrono::steady_clock::now() - asked, 1s);
        }
    }
    // The head is a few hundred bytes on top of the body.
    EXPECT_GE(total, kBigFile);
    EXPECT_LT(total, kBigFile + 1024);
    peak = std::max(peak, rss_kib(process->pid()));
    EXPECT_LT(peak - baseline, 8 * 1024)
        << "RSS grew from " << baseline << " to " << peak << " KiB";
}

TEST(SiteDefaultStatic, TheFolderBesideTheRealExecutableThroughASymlink) {
    const fs::path dir =
        fs::path(::testing::TempDir()) / ("site-link-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    fs::create_symlink(fs::canonical(FLAMECPP_SAMPLE_SITE), dir / "site");
    {
        SampleProcess site =
            SampleProcess::start((dir / "site").string(), {"--log-level", "error"});
        EXPECT_EQ(Send(site.port(), "GET", "/").body,
                  ReadFile(SampleStaticFolder() / "index.html"));
        EXPECT_EQ(Send(site.port(), "GET", "/static/app.js").body,
                  ReadFile(SampleStaticFolder() / "app.js"));
    }
    fs::remove_all(dir);
}

TEST(SiteDefaultStatic, AMissingFolderStopsTheStartNamingIt) {
    const RunResult r = SampleProcess::run_to_exit(
        FLAMECPP_SAMPLE_SITE, {"--port", "0", "--static", "/nonexistent/static-folder"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.stdout_text.find("listening on"), std::string::npos);
    EXPECT_NE(r.stderr_text.find("/nonexistent/static-folder"), std::string::npos) << r.stderr_text;
}

// ---------------------------------------------------------------------------------------------
// Forms.

TEST_F(Site, AFormsFieldsWithRepeatedNames) {
    const Headers form = {{"Content-Type", "application/x-www-form-urlencoded"}};
    ExpectJson(Send(port(), "POST", "/form", form, "a=1&b=x+y&b=z%21"), 200,
               R"({"a":["1"],"b":["x y","z!"]})");
    ExpectJson(Send(port(), "POST", "/form", form, "empty=&bare&&caf%C3%A9=%E2%9C%93"), 200,
               R"({"empty":[""],"bare":[""],"café":["✓"]})");
    ExpectJson(Send(port(), "POST", "/form", form, "a=%zz"), 400,
               R"({"detail":"the form body holds a bad percent escape"})");
    EXPECT_EQ(Send(port(), "POST", "/form", {{"Content-Type", "application/json"}}, "{}").status,
              415);
    EXPECT_EQ(Send(port(), "GET", "/form").status, 405);
}

// ---------------------------------------------------------------------------------------------
// Uploads.

std::string Sha256Hex(std::string_view data) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr);
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < length; ++i) {
        out += hex[digest[i] >> 4];
        out += hex[digest[i] & 0xf];
    }
    return out;
}

constexpr std::string_view kBoundary = "----site-test-7MA4YWxkTrZu0gW";

std::string TextPart(std::string_view name, std::string_view value) {
    return "--" + std::string(kBoundary) + "\r\nContent-Disposition: form-data; name=\"" +
           std::string(name) + "\"\r\n\r\n" + std::string(value) + "\r\n";
}

std::string FilePartHead(std::string_view name, std::string_view filename, std::string_view type) {
    return "--" + std::string(kBoundary) + "\r\nContent-Disposition: form-data; name=\"" +
           std::string(name) + "\"; filename=\"" + std::string(filename) +
           "\"\r\nContent-Type: " + std::string(type) + "\r\n\r\n";
}

std::string Closing() { return "--" + std::string(kBoundary) + "--\r\n"; }

Headers MultipartHeaders() {
    return {{"Content-Type", "multipart/form-data; boundary=" + std::string(kBoundary)}};
}

/// Bytes that are not all alike, with CRs and dashes that come close to a delimiter.
std::string Binary(std::size_t size, unsigned seed) {
    std::string out(size, '\0');
    std::uint32_t x = seed * 2654435761u + 1;
    for (auto& c : out) {
        x = x * 1664525u + 1013904223u;
        c = static_cast<char>(x >> 24);
    }
    const std::string near_miss =
        "\r\n--" + std::string(kBoundary).substr(0, 20) + "\r\n--x--\r\n\r";
    for (std::size_t i = 0; i + near_miss.size() < size; i += 4099) {
        near_miss.copy(out.data() + i, near_miss.size());
    }
    return out;
}

TEST_F(Site, UploadsAreFieldsAndFilesWithTheirDigests) {
    const std::string small = "hello, upload\n";
    const std::string large = Binary(3 * 1024 * 1024 + 17, 1);  // spooled to a temporary file
    const std::string body = TextPart("name", "value") + TextPart("tag", "a") +
                             TextPart("tag", "b") + FilePartHead("doc", "notes.txt", "text/plain") +
                             small + "\r\n" +
                             FilePartHead("blob", "data.bin", "application/octet-stream") + large +
                             "\r\n" + FilePartHead("empty", "", "text/plain") + "\r\n" + Closing();
    const Response r = Send(port(), "POST", "/upload", MultipartHeaders(), body);
    const std::string expected = R"({"fields":{"name":["value"],"tag":["a","b"]},"files":[)"
                                 R"({"field":"doc","filename":"notes.txt","content_type":)"
                                 R"("text/plain","size":14,"sha256":")" +
                                 Sha256Hex(small) +
                                 R"("},{"field":"blob","filename":"data.bin","content_type":)"
                                 R"("application/octet-stream","size":)" +
                                 std::to_string(large.size()) + R"(,"sha256":")" +
                                 Sha256Hex(large) +
                                 R"("},{"field":"empty","filename":"","content_type":)"
                                 R"("text/plain","size":0,"sha256":")" +
                                 Sha256Hex("") + R"("}]})";
    ExpectJson(r, 200, expected);
}

TEST_F(Site, MalformedUploadsAre400) {
    const std::string part = "Content-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n";
    const std::string b = std::string(kBoundary);
    struct Case {
        std::string type;
        std::string body;
        std::string detail;
    };
    const Case cases[] = {
        {"multipart/form-data", "--" + b + "\r\n" + part + "--" + b + "--",
         "the multipart body's Content-Type has no valid boundary"},
        {"multipart/form-data; boundary=\"bad@boundary\"", "x",
         "the multipart body's Content-Type has no valid boundary"},
        {"multipart/form-data; boundary=" + b, "--" + b + "\r\n\r\nx\r\n--" + b + "--",
         "malformed multipart body: a part has no header section"},
        {"multipart/form-data; boundary=" + b, "--" + b + "\r\n" + part,
         "malformed multipart body: the body ends before its closing boundary"},
        {"multipart/form-data; boundary=" + b, "no delimiter at all",
         "malformed multipart body: the body holds no boundary"},
        {"multipart/form-data; boundary=" + b, "--" + b + "garbage\r\n" + part + "--" + b + "--",
         "malformed multipart body: a boundary is followed by something other than a line end"},
    };
    for (const auto& c : cases) {
        const Response r = Send(port(), "POST", "/upload", {{"Content-Type", c.type}}, c.body);
        ExpectJson(r, 400, boost::json::serialize(boost::json::value{{"detail", c.detail}}));
    }
    EXPECT_EQ(Send(port(), "POST", "/upload", {{"Content-Type", "text/plain"}}, "x").status, 415);
}

TEST_F(Site, UploadsOver100MibAre413AndClose) {
    constexpr std::uint64_t limit = 100ull * 1024 * 1024;
    {
        // Declared: refused before a byte of the body is sent.
        RawConnection c(port());
        c.send(
            "POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; "
            "boundary=" +
            std::string(kBoundary) + "\r\nContent-Length: " + std::to_string(limit + 1) +
            "\r\n\r\n");
        ExpectAnswerThenClose(c, 413);
    }
    {
        // Chunked: refused as soon as the bytes received cross the limit.
        RawConnection c(port());
        c.send(
            "POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; "
            "boundary=" +
            std::string(kBoundary) + "\r\nTransfer-Encoding: chunked\r\n\r\n");
        const std::string head = FilePartHead("f", "big.bin", "application/octet-stream");
        c.send("1000\r\n" + head + std::string(0x1000 - head.size(), 'z') + "\r\n");
        const std::string piece = "100000\r\n" + std::string(0x100000, 'z') + "\r\n";
        std::uint64_t sent = 0x1000;
        while (sent <= limit + 0x100000 && c.try_send(piece, 10s)) {
            sent += 0x100000;
        }
        EXPECT_GT(sent, limit - 0x100000) << "refused early, after " << sent << " bytes";
        const Response r = c.read_response(kIo);
        EXPECT_EQ(r.status, 413) << r.body;
        EXPECT_TRUE(c.wait_closed(5s));
    }
    EXPECT_EQ(Send(port(), "GET", "/api/v1/items").status, 200);
}

TEST(SiteUpload, A100MibUploadInConstantMemoryWithItsTemporaryFileRemoved) {
    const fs::path tmp =
        fs::path(::testing::TempDir()) / ("site-upload-" + std::to_string(::getpid()));
    fs::remove_all(tmp);
    fs::create_directories(tmp);
    SpawnOptions options = small_asan_quarantine();
    options.env.push_back("TMPDIR=" + tmp.string());
    SampleProcess site =
        SampleProcess::start(FLAMECPP_SAMPLE_SITE, {"--log-level", "error"}, options);
    // Warm the connection paths first: the baseline is the process at work, not at rest.
    EXPECT_EQ(Send(site.port(), "GET", "/api/v1/items").status, 200);

    const std::string head = FilePartHead("file", "big.bin", "application/octet-stream");
    const std::string tail = "\r\n" + Closing();
    constexpr std::uint64_t kBody = 100ull * 1024 * 1024;  // exactly the limit
    const std::uint64_t file_size = kBody - head.size() - tail.size();
    RawConnection c(site.port());
    c.send("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=" +
           std::string(kBoundary) + "\r\nContent-Length: " + std::to_string(kBody) + "\r\n\r\n" +
           head);
    const std::string piece = Binary(1024 * 1024, 7);
    EVP_MD_CTX* sha = EVP_MD_CTX_new();
    EVP_DigestInit_ex(sha, EVP_sha256(), nullptr);
    const long baseline = rss_kib(site.pid());
    long peak = baseline;
    std::uint64_t sent = 0;
    bool spooled = false;
    while (sent < file_size) {
        const std::size_t n =
            static_cast<std::size_t>(std::min<std::uint64_t>(piece.size(), file_size - sent));
        c.send(std::string_view(piece).substr(0, n), 10s);
        EVP_DigestUpdate(sha, piece.data(), n);
        sent += n;
        peak = std::max(peak, rss_kib(site.pid()));
        spooled = spooled || !fs::is_empty(tmp);
    }
    c.send(tail);
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EVP_DigestFinal_ex(sha, digest, &length);
    EVP_MD_CTX_free(sha);
    std::string hex;
    for (unsigned int i = 0; i < length; ++i) {
        hex += "0123456789abcdef"[digest[i] >> 4];
        hex += "0123456789abcdef"[digest[i] & 0xf];
    }
    const Response r = c.read_response(60s);
    peak = std::max(peak, rss_kib(site.pid()));
    ASSERT_EQ(r.status, 200) << r.body;
    const auto json = JsonOf(r);
    EXPECT_EQ(json.at("files").at(0).at("size"), file_size);
    EXPECT_EQ(json.at("files").at(0).at("sha256").as_string(), hex);
    EXPECT_TRUE(spooled) << "the file never reached TMPDIR";
    if (!kThreadSanitizer) {  // (TSan's allocator and shadow make RSS meaningless here)
        EXPECT_LT(peak - baseline, 8 * 1024)
            << "RSS grew from " << baseline << " to " << peak << " KiB";
    }
    // The temporary file goes with the request.
    const auto deadline = std::chrono::steady_clock::now() + 2s;
    while (!fs::is_empty(tmp) && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(10ms);
    }
    EXPECT_TRUE(fs::is_empty(tmp)) << "a temporary file outlived its request";
    fs::remove_all(tmp);
}

// ---------------------------------------------------------------------------------------------
// Server-sent events.

std::string Ticks(int from, int to) {
    std::string out;
    for (int k = from; k <= to; ++k) {
        out += "id: " + std::to_string(k) + "\nevent: tick\ndata: {\"n\":" + std::to_string(k) +
               "}\n\n";
    }
    return out;
}

TEST_F(Site, EventsAreFiveTicks100MsApart) {
    const auto asked = std::chrono::steady_clock::now();
    const Response r = Send(port(), "GET", "/events");
    const auto took = std::chrono::steady_clock::now() - asked;
    EXPECT_EQ(r.status, 200);
    EXPECT_TRUE(starts_with_ci(r.header("Content-Type").value_or(""), "text/event-stream"));
    EXPECT_EQ(r.header("Cache-Control"), "no-cache");
    EXPECT_EQ(r.body, Ticks(1, 5));
    EXPECT_GE(took, 380ms) << "four gaps of 100 ms";
    EXPECT_LT(took, 3s);
    ExpectCommonHeaders(r);
    // Never gzipped: events must reach the client as they are written.
    EXPECT_FALSE(
        Send(port(), "GET", "/events", {{"Accept-Encoding", "gzip"}, {"Last-Event-ID", "4"}})
            .header("Content-Encoding"));
}

TEST_F(Site, EventsResumeAfterTheLastEventId) {
    const Response r = Send(port(), "GET", "/events", {{"Last-Event-ID", "3"}});
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, Ticks(4, 5));
    EXPECT_EQ(Send(port(), "GET", "/events", {{"Last-Event-ID", "soon"}}).status, 400);
}

TEST(SiteEvents, AClientThatLeavesIsNoticedWithinOneTickAndNothingIsLogged) {
    LoggedSite site({"--log-level", "debug"});
    const pid_t pid = site.process.pid();
    const std::size_t baseline = open_descriptors(pid);
    {
        Downloader stream(site.process.port(), "/events?forever=true");
        std::string seen;
        const auto deadline = std::chrono::steady_clock::now() + 5s;
        while (seen.find("id: 3\n") == std::string::npos &&
               std::chrono::steady_clock::now() < deadline) {
            const std::size_t n = stream.read();
            ASSERT_GT(n, 0u) << "the stream ended: " << seen;
            seen.append(stream.last(n));
        }
        // Chunked: each event is its own chunk.
        EXPECT_NE(seen.find(Ticks(1, 1)), std::string::npos) << seen;
        EXPECT_NE(seen.find(Ticks(2, 2)), std::string::npos) << seen;
        EXPECT_EQ(open_descriptors(pid), baseline + 1);
    }
    // One tick (100 ms) and some slack for the sanitizers.
    std::this_thread::sleep_for(250ms);
    EXPECT_EQ(open_descriptors(pid), baseline) << "the connection was not freed";
    const std::string log = site.log();
    EXPECT_NE(log.find("ended: the client left"), std::string::npos) << log;
    EXPECT_EQ(log.find(" error ["), std::string::npos) << log;
    // It still serves.
    EXPECT_EQ(Send(site.process.port(), "GET", "/events", {{"Last-Event-ID", "5"}}).status, 200);
}

TEST(SiteEvents, AShutdownEndsAnEndlessStream) {
    LoggedSite site;
    Downloader stream(site.process.port(), "/events?forever=true");
    ASSERT_GT(stream.read(), 0u);
    const auto asked = std::chrono::steady_clock::now();
    EXPECT_EQ(site.process.stop(SIGTERM), 0);
    EXPECT_LT(std::chrono::steady_clock::now() - asked, 3s) << "the stream held the shutdown";
    EXPECT_NE(site.log().find("shutdown complete"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// Lifespan.

TEST(SiteLifespan, StartupBeforeListeningAndShutdownAfterTheConnectionsDrain) {
    LoggedSite site;
    // The listening line is out: the startup hook has run and logged.
    EXPECT_NE(site.log().find("startup complete"), std::string::npos) << site.log();
    EXPECT_NE(site.log().find("no --secret"), std::string::npos) << "the random-key warning";
    EXPECT_EQ(site.log().find("shutdown complete"), std::string::npos);
    EXPECT_EQ(site.process.stop(SIGTERM), 0);
    const std::string log = site.log();
    EXPECT_NE(log.find("shutdown complete"), std::string::npos) << log;
    EXPECT_LT(log.find("startup complete"), log.find("shutdown complete"));
}

TEST(SiteLifespan, AFailingStartupHookIsOneLineAndExit1) {
    const RunResult r =
        SampleProcess::run_to_exit(FLAMECPP_SAMPLE_SITE, {"--port", "0", "--fail-startup"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.stdout_text.find("listening on"), std::string::npos) << r.stdout_text;
    EXPECT_EQ(std::count(r.stderr_text.begin(), r.stderr_text.end(), '\n'), 1) << r.stderr_text;
    EXPECT_NE(r.stderr_text.find("startup hook 'prepare the site' failed"), std::string::npos)
        << r.stderr_text;
}

TEST(SiteLifespan, AppFlagsAreInTheHelpAndBadOnesExit2) {
    const RunResult help = SampleProcess::run_to_exit(FLAMECPP_SAMPLE_SITE, {"--help"});
    EXPECT_EQ(help.exit_code, 0);
    for (const char* flag : {"--secret KEY", "--allowed-host HOST", "--cors-origin ORIGIN",
                             "--fail-startup", "--static DIR"}) {
        EXPECT_NE(help.stdout_text.find(flag), std::string::npos) << flag;
    }
    const RunResult bad = SampleProcess::run_to_exit(FLAMECPP_SAMPLE_SITE, {"--secret"});
    EXPECT_EQ(bad.exit_code, 2);
    EXPECT_NE(bad.stderr_text.find("usage:"), std::string::npos) << bad.stderr_text;
}

}  // namespace
}  // namespace flamecpp::test
