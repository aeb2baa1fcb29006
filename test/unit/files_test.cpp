// The pure parts of file answers: Range, HTTP dates, entity-tag lists, RFC 9110 13.2.2's
// order, the content-type table, and the static path resolver with both ways of opening
// below a root.
#include "http/files.hpp"

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

namespace flamecpp::detail {
namespace {

// Response lives in the coroutine frames of every request: 16 bytes more (a second pointer
// for the file body) measured 6,205 -> 6,707 instructions per plaintext request, a frame
// past Asio's recycling size. Rare parts go behind Response's one extras pointer.
static_assert(sizeof(Response) <= 152,
              "Response grew: measure the plaintext path (callgrind) before letting it");

using Kind = ByteRange::Kind;

TEST(ParseRange, OneRangeInEachForm) {
    auto r = parse_range("bytes=0-99", 1000);
    EXPECT_EQ(r.kind, Kind::single);
    EXPECT_EQ(r.first, 0u);
    EXPECT_EQ(r.last, 99u);
    r = parse_range("bytes=900-", 1000);
    EXPECT_EQ(r.kind, Kind::single);
    EXPECT_EQ(r.first, 900u);
    EXPECT_EQ(r.last, 999u);
    r = parse_range("bytes=-100", 1000);
    EXPECT_EQ(r.kind, Kind::single);
    EXPECT_EQ(r.first, 900u);
    EXPECT_EQ(r.last, 999u);
    r = parse_range("Bytes = 5-5", 1000);  // no spaces around '=' in the grammar
    EXPECT_EQ(r.kind, Kind::ignore);
    r = parse_range("BYTES=5-5", 1000);  // the unit is case-insensitive
    EXPECT_EQ(r.kind, Kind::single);
    EXPECT_EQ(r.first, 5u);
    EXPECT_EQ(r.last, 5u);
}

TEST(ParseRange, ClampsToTheEndAndTakesLongSuffixesWhole) {
    auto r = parse_range("bytes=10-5000", 1000);
    EXPECT_EQ(r.kind, Kind::single);
    EXPECT_EQ(r.last, 999u);
    r = parse_range("bytes=-5000", 1000);
    EXPECT_EQ(r.kind, Kind::single);
    EXPECT_EQ(r.first, 0u);
    EXPECT_EQ(r.last, 999u);
}

TEST(ParseRange, UnsatisfiableRanges) {
    EXPECT_EQ(parse_range("bytes=1000-", 1000).kind, Kind::unsatisfiable);
    EXPECT_EQ(parse_range("bytes=2000-3000", 1000).kind, Kind::unsatisfiable);
    EXPECT_EQ(parse_range("bytes=-0", 1000).kind, Kind::unsatisfiable);
    EXPECT_EQ(parse_range("bytes=0-", 0).kind, Kind::unsatisfiable);
    EXPECT_EQ(parse_range("bytes=1000-1001, 2000-", 1000).kind, Kind::unsatisfiable);
}

TEST(ParseRange, MalformedHeadersAreIgnored) {
    for (const char* header :
         {"", "bytes", "bytes=", "bytes=,", "items=0-1", "bytes=a-b", "bytes=5-1", "bytes=1-2-3",
          "bytes=--1", "bytes=0x1-2", "bytes= 1 - 2", "bytes=99999999999999999999999-",
          "bytes=0-1;", "bytes=-"}) {
        EXPECT_EQ(parse_range(header, 1000).kind, Kind::ignore) << header;
    }
}

TEST(ParseRange, SeveralRangesAreAnsweredWhole) {
    EXPECT_EQ(parse_range("bytes=0-1, 5-6", 1000).kind, Kind::ignore);
    // One satisfiable among unsatisfiable ones still has a 200 answer.
    EXPECT_EQ(parse_range("bytes=0-1, 5000-", 1000).kind, Kind::ignore);
    // Empty list elements do not count.
    auto r = parse_range("bytes=, 0-1 ,", 1000);
    EXPECT_EQ(r.kind, Kind::single);
}

TEST(HttpDate, ReadsTheThreeForms) {
    // RFC 9110 5.6.7's example: 784111777.
    EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777);
    EXPECT_EQ(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), 784111777);
    EXPECT_EQ(parse_http_date("Sun Nov  6 08:49:37 1994"), 784111777);
    EXPECT_EQ(parse_http_date("  Sun, 06 Nov 1994 08:49:37 GMT "), 784111777);
}

TEST(HttpDate, RefusesAnythingElse) {
    for (const char* text : {"", "yesterday", "Sun, 06 Nov 1994 08:49:37", "Sun, 06 Nov 1994",
                             "Sun, 06 Nov 1994 08:49:37 GMT trailing", "1994-11-06T08:49:37Z"}) {
        EXPECT_FALSE(parse_http_date(text).has_value()) << text;
    }
    EXPECT_FALSE(parse_http_date(std::string(100, 'a')).has_value());
}

TEST(EntityTags, WeakAndStrongComparison) {
    EXPECT_TRUE(etag_list_matches("\"a\"", "\"a\"", false));
    EXPECT_TRUE(etag_list_matches("W/\"a\"", "\"a\"", true));
    EXPECT_FALSE(etag_list_matches("W/\"a\"", "\"a\"", false));
    EXPECT_FALSE(etag_list_matches("\"a\"", "W/\"a\"", false));
    EXPECT_TRUE(etag_list_matches("\"x\", W/\"a\"", "\"a\"", true));
    EXPECT_TRUE(etag_list_matches("*", "\"a\"", false));
    EXPECT_FALSE(etag_list_matches("\"b\"", "\"a\"", true));
    // A comma inside a tag is part of it: the list is scanned, not split.
    EXPECT_TRUE(etag_list_matches("\"x,y\", \"a\"", "\"a\"", true));
    EXPECT_FALSE(etag_list_matches("\"a,\"", "\"a\"", true));
    // Not a list of tags: no match.
    EXPECT_FALSE(etag_list_matches("a", "\"a\"", true));
    EXPECT_FALSE(etag_list_matches("\"a", "\"a\"", true));
}

constexpr std::string_view etag = "\"abc-10\"";
constexpr std::int64_t modified = 784111777;  // Sun, 06 Nov 1994 08:49:37 GMT
using D = FileDecision::Kind;

FileDecision decide(FileConditions c) { return decide_file_answer(c, etag, modified, 1000); }

TEST(FileDecision, ConditionalGets) {
    EXPECT_EQ(decide({}).kind, D::full);
    EXPECT_EQ(decide({.if_none_match = "\"abc-10\""}).kind, D::not_modified);
    EXPECT_EQ(decide({.if_none_match = "W/\"abc-10\""}).kind, D::not_modified);
    EXPECT_EQ(decide({.if_none_match = "*"}).kind, D::not_modified);
    EXPECT_EQ(decide({.if_none_match = "\"other\""}).kind, D::full);
    EXPECT_EQ(decide({.if_modified_since = "Sun, 06 Nov 1994 08:49:37 GMT"}).kind, D::not_modified);
    EXPECT_EQ(decide({.if_modified_since = "Mon, 07 Nov 1994 08:49:37 GMT"}).kind, D::not_modified);
    EXPECT_EQ(decide({.if_modified_since = "Sat, 05 Nov 1994 08:49:37 GMT"}).kind, D::full);
    EXPECT_EQ(decide({.if_modified_since = "garbage"}).kind, D::full);
}

TEST(FileDecision, IfNoneMatchComesBeforeIfModifiedSince) {
    // RFC 9110 13.2.2 step 4 reads If-Modified-Since only without If-None-Match.
    EXPECT_EQ(
        decide({.if_none_match = "\"other\"", .if_modified_since = "Mon, 07 Nov 1994 08:49:37 GMT"})
            .kind,
        D::full);
}

TEST(FileDecision, PreconditionsOnOtherMethods) {
    EXPECT_EQ(decide({.get_or_head = false, .if_none_match = "\"abc-10\""}).kind,
              D::precondition_failed);
    EXPECT_EQ(
        decide({.get_or_head = false, .if_modified_since = "Mon, 07 Nov 1994 08:49:37 GMT"}).kind,
        D::full);
    EXPECT_EQ(decide({.if_match = "\"other\""}).kind, D::precondition_failed);
    EXPECT_EQ(decide({.if_match = "\"abc-10\""}).kind, D::full);
    EXPECT_EQ(decide({.if_match = "W/\"abc-10\""}).kind, D::precondition_failed);
    EXPECT_EQ(decide({.if_unmodified_since = "Sat, 05 Nov 1994 08:49:37 GMT"}).kind,
              D::precondition_failed);
    EXPECT_EQ(decide({.if_unmodified_since = "Sun, 06 Nov 1994 08:49:37 GMT"}).kind, D::full);
    // If-Match present: If-Unmodified-Since is not read.
    EXPECT_EQ(
        decide({.if_match = "*", .if_unmodified_since = "Sat, 05 Nov 1994 08:49:37 GMT"}).kind,
        D::full);
}

TEST(FileDecision, RangesAndIfRange) {
    auto d = decide({.range = "bytes=10-19"});
    EXPECT_EQ(d.kind, D::partial);
    EXPECT_EQ(d.first, 10u);
    EXPECT_EQ(d.last, 19u);
    EXPECT_EQ(decide({.range = "bytes=5000-"}).kind, D::unsatisfiable);
    EXPECT_EQ(decide({.range = "nonsense"}).kind, D::full);
    EXPECT_EQ(decide({.if_range = "\"abc-10\"", .range = "bytes=10-19"}).kind, D::partial);
    EXPECT_EQ(decide({.if_range = "\"stale\"", .range = "bytes=10-19"}).kind, D::full);
    EXPECT_EQ(decide({.if_range = "W/\"abc-10\"", .range = "bytes=10-19"}).kind, D::full);
    EXPECT_EQ(decide({.if_range = "Sun, 06 Nov 1994 08:49:37 GMT", .range = "bytes=10-19"}).kind,
              D::partial);
    EXPECT_EQ(decide({.if_range = "Mon, 07 Nov 1994 08:49:37 GMT", .range = "bytes=10-19"}).kind,
              D::full);
    EXPECT_EQ(decide({.if_range = "garbage", .range = "bytes=10-19"}).kind, D::full);
    // A 304 wins over a range.
    EXPECT_EQ(decide({.if_none_match = "\"abc-10\"", .range = "bytes=10-19"}).kind,
              D::not_modified);
    // Not GET or HEAD: no range.
    EXPECT_EQ(decide({.get_or_head = false, .range = "bytes=10-19"}).kind, D::full);
}

TEST(ContentTypes, FromTheExtension) {
    EXPECT_EQ(content_type_for("index.html"), "text/html; charset=utf-8");
    EXPECT_EQ(content_type_for("a/b/style.CSS"), "text/css; charset=utf-8");
    EXPECT_EQ(content_type_for("app.js"), "text/javascript; charset=utf-8");
    EXPECT_EQ(content_type_for("data.json"), "application/json");
    EXPECT_EQ(content_type_for("logo.png"), "image/png");
    EXPECT_EQ(content_type_for("logo.svg"), "image/svg+xml");
    EXPECT_EQ(content_type_for("notes.txt"), "text/plain; charset=utf-8");
    EXPECT_EQ(content_type_for("blob.xyz"), "application/octet-stream");
    EXPECT_EQ(content_type_for("Makefile"), "application/octet-stream");
    EXPECT_EQ(content_type_for(".hidden"), "application/octet-stream");
    EXPECT_EQ(content_type_for("dir.html/file"), "application/octet-stream");
    EXPECT_EQ(content_type_for("x.averyveryverylongextension"), "application/octet-stream");
}

TEST(StaticRelativePath, PlainNames) {
    EXPECT_EQ(static_relative_path(""), "");
    EXPECT_EQ(static_relative_path("app.js"), "app.js");
    EXPECT_EQ(static_relative_path("css/site.css"), "css/site.css");
    EXPECT_EQ(static_relative_path("docs/"), "docs/");
    EXPECT_EQ(static_relative_path("a%20b.txt"), "a b.txt");
    EXPECT_EQ(static_relative_path("caf%C3%A9.txt"), "caf\xC3\xA9.txt");
    EXPECT_EQ(static_relative_path("a+b"), "a+b");  // '+' is not a space in a path
    EXPECT_EQ(static_relative_path("..hidden"), "..hidden");
}

TEST(StaticRelativePath, RefusesWhatCouldLeaveTheRoot) {
    for (const char* rest : {"..",
                             "../etc/passwd",
                             "a/../../b",
                             "%2e%2e/x",
                             "%2E%2E",
                             ".",
                             "./a",
                             "a/./b",
                             "a%2fb",
                             "a%2Fb",
                             "%2fetc/passwd",
                             "/etc/passwd",
                             "a//b",
                             "a\\b",
                             "..%5c..%5cwin.ini",
                             "a%5cb",
                             "a%00b",
                             "%00",
                             "a%zz",
                             "a%",
                             "%2e",
                             "a/%2e%2e/b"}) {
        EXPECT_FALSE(static_relative_path(rest).has_value()) << rest;
    }
    EXPECT_FALSE(static_relative_path(std::string_view("a\0b", 3)).has_value());
}

class OpenBeneath : public ::testing::TestWithParam<bool> {
protected:
    void SetUp() override {
        force_open_beneath_fallback(GetParam());
        char tmpl[] = "/tmp/flamecpp-files-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        base_ = tmpl;
        namespace fs = std::filesystem;
        fs::create_directories(base_ / "root/sub");
        fs::create_directories(base_ / "outside");
        std::ofstream(base_ / "root/a.txt") << "a";
        std::ofstream(base_ / "root/sub/b.txt") << "b";
        std::ofstream(base_ / "outside/secret.txt") << "secret";
        fs::create_symlink(base_ / "outside/secret.txt", base_ / "root/absolute-link");
        fs::create_symlink("../outside/secret.txt", base_ / "root/relative-link");
        fs::create_symlink("../outside", base_ / "root/dir-link");
        fs::create_symlink("sub/b.txt", base_ / "root/inside-link");
        root_ = ::open((base_ / "root").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
        ASSERT_GE(root_, 0);
    }
    void TearDown() override {
        force_open_beneath_fallback(false);
        ::close(root_);
        std::filesystem::remove_all(base_);
    }

    /// The first byte of the file opened, or "" when it did not open.
    std::string read(const std::string& relative) {
        const int fd = open_beneath(root_, relative);
        if (fd < 0) {
            return "";
        }
        char c = 0;
        const auto n = ::read(fd, &c, 1);
        ::close(fd);
        return n == 1 ? std::string(1, c) : std::string("(dir)");
    }

    std::filesystem::path base_;
    int root_ = -1;
};

TEST_P(OpenBeneath, OpensFilesBelowTheRoot) {
    EXPECT_EQ(read("a.txt"), "a");
    EXPECT_EQ(read("sub/b.txt"), "b");
    EXPECT_EQ(read("missing.txt"), "");
    EXPECT_EQ(read("a.txt/"), "");  // a file is not a directory
    EXPECT_EQ(read("sub"), "(dir)");
    EXPECT_EQ(read(""), "(dir)");
}

TEST_P(OpenBeneath, NeverLeavesTheRoot) {
    // The resolver refuses these names first; open_beneath must hold on its own too.
    EXPECT_EQ(read("../outside/secret.txt"), "");
    EXPECT_EQ(read("/tmp"), "");
    EXPECT_EQ(read("absolute-link"), "");
    EXPECT_EQ(read("relative-link"), "");
    EXPECT_EQ(read("dir-link/secret.txt"), "");
    EXPECT_EQ(read("sub/../../outside/secret.txt"), "");
}

TEST_P(OpenBeneath, SymlinksInsideTheRootOnlyWithOpenat2) {
    EXPECT_EQ(read("inside-link"), GetParam() ? "" : "b");
}

INSTANTIATE_TEST_SUITE_P(
    Ways, OpenBeneath, ::testing::Bool(), [](const ::testing::TestParamInfo<bool>& param_info) {
        return param_info.param ? std::string("components") : std::string("openat2");
    });

}  // namespace
}  // namespace flamecpp::detail
