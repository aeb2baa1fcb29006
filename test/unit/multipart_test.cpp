// The incremental multipart parser: the same body split at every byte gives the same parts;
// each malformation the contract names (no or bad boundary, a part without headers, a
// truncated body) and the stricter rules (folded or bare-LF header lines, a delimiter with
// trailing garbage, a repeated parameter) are refused with a reason.
#include "http/multipart.hpp"

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace flamecpp::detail {
namespace {

using namespace std::string_literals;

struct Part {
    std::string name;
    std::optional<std::string> filename;
    std::string content_type;
    std::string data;
    bool ended = false;
    bool operator==(const Part&) const = default;
};

class Collector final : public MultipartSink {
public:
    void begin_part(MultipartPart& part) override {
        if (!parts.empty() && !parts.back().ended) {
            throw std::logic_error("a part began before the last ended");
        }
        parts.push_back({part.name, part.filename, part.content_type, {}, false});
    }
    void part_data(std::string_view bytes) override {
        if (parts.empty() || parts.back().ended || bytes.empty()) {
            throw std::logic_error("data outside a part, or empty");
        }
        parts.back().data.append(bytes);
    }
    void end_part() override { parts.back().ended = true; }

    std::vector<Part> parts;
};

const std::string boundary = "----formdata-x7";

std::string sample_body() {
    return "--" + boundary +
           "\r\n"
           "Content-Disposition: form-data; name=\"title\"\r\n"
           "\r\n"
           "hello\r\nworld\r\n"
           "--" +
           boundary +
           "\r\n"
           "content-disposition: form-data; name=\"doc\"; filename=\"a \\\"b\\\".txt\"\r\n"
           "Content-Type: application/octet-stream\r\n"
           "\r\n"
           "\r\n--" +
           boundary.substr(0, 5) + "\r\r\n-\0x"s +
           "\r\n"
           "--" +
           boundary +
           "\r\n"
           "Content-Disposition: form-data; name=empty; filename*=UTF-8''%E2%82%AC.bin\r\n"
           "\r\n"
           "\r\n"
           "--" +
           boundary + "--\r\nepilogue --" + boundary + " ignored";
}

std::vector<Part> expected_parts() {
    return {
        {"title", std::nullopt, "text/plain", "hello\r\nworld", true},
        {"doc", "a \"b\".txt", "application/octet-stream",
         "\r\n--" + boundary.substr(0, 5) + "\r\r\n-\0x"s, true},
        {"empty", "\xE2\x82\xAC.bin", "text/plain", "", true},
    };
}

TEST(MultipartParser, OneFeed) {
    MultipartParser parser(boundary);
    Collector sink;
    ASSERT_TRUE(parser.feed(sample_body(), sink)) << parser.error();
    ASSERT_TRUE(parser.finish()) << parser.error();
    EXPECT_EQ(sink.parts, expected_parts());
}

TEST(MultipartParser, EverySplitGivesTheSameParts) {
    const std::string body = sample_body();
    for (std::size_t at = 0; at <= body.size(); ++at) {
        MultipartParser parser(boundary);
        Collector sink;
        ASSERT_TRUE(parser.feed(std::string_view(body).substr(0, at), sink)) << at;
        ASSERT_TRUE(parser.feed(std::string_view(body).substr(at), sink)) << at;
        ASSERT_TRUE(parser.finish()) << at << ": " << parser.error();
        EXPECT_EQ(sink.parts, expected_parts()) << at;
    }
}

TEST(MultipartParser, ByteByByte) {
    const std::string body = sample_body();
    MultipartParser parser(boundary);
    Collector sink;
    for (char c : body) {
        ASSERT_TRUE(parser.feed(std::string_view(&c, 1), sink)) << parser.error();
    }
    ASSERT_TRUE(parser.finish());
    EXPECT_EQ(sink.parts, expected_parts());
}

TEST(MultipartParser, APreambleIsSkipped) {
    MultipartParser parser("b");
    Collector sink;
    ASSERT_TRUE(
        parser.feed("preamble\r\n--b\r\nContent-Disposition: form-data; name=a\r\n\r\n1"
                    "\r\n--b--",
                    sink));
    ASSERT_TRUE(parser.finish());
    ASSERT_EQ(sink.parts.size(), 1u);
    EXPECT_EQ(sink.parts[0].data, "1");
}

std::string refusal(std::string_view body, std::string_view b = "b") {
    MultipartParser parser(b);
    Collector sink;
    if (parser.feed(body, sink) && parser.finish()) {
        return "accepted";
    }
    return std::string(parser.error());
}

TEST(MultipartParser, MalformedBodiesAreRefusedWithAReason) {
    const std::string part = "Content-Disposition: form-data; name=a\r\n\r\nx";
    EXPECT_EQ(refusal(""), "the body holds no boundary");
    EXPECT_EQ(refusal("no boundary at all"), "the body holds no boundary");
    EXPECT_EQ(refusal("--b\r\n" + part), "the body ends before its closing boundary");
    EXPECT_EQ(refusal("--b\r\n" + part + "\r\n--b"), "the body ends before its closing boundary");
    EXPECT_EQ(refusal("--b\r\n\r\nx\r\n--b--"), "a part has no header section");
    EXPECT_EQ(refusal("--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--"),
              "a part has no Content-Disposition: form-data with a name");
    EXPECT_EQ(refusal("--bX\r\n" + part + "\r\n--b--"),
              "a boundary is followed by something other than a line end");
    EXPECT_EQ(refusal("--b\r\nContent-Disposition: form-data; name=a\r\n x\r\n\r\nx\r\n--b--"),
              "a part's header line is folded");
    EXPECT_EQ(refusal("--b\r\nContent-Disposition: form-data; name=a\nX: y\r\n\r\nx\r\n--b--"),
              "a part's header line holds a bare CR or LF");
    EXPECT_EQ(refusal("--b\r\nno colon\r\n\r\nx\r\n--b--"),
              "a part's header line is not 'name: value'");
    EXPECT_EQ(refusal("--b\r\nContent-Disposition: attachment; name=a\r\n\r\nx\r\n--b--"),
              "a part's Content-Disposition is not form-data");
    EXPECT_EQ(refusal("--b\r\nContent-Disposition: form-data; name=a; name=b\r\n\r\nx\r\n--b--"),
              "a part's Content-Disposition repeats a parameter");
    EXPECT_EQ(refusal("--b\r\nContent-Disposition: form-data; name=\"a\r\n\r\nx\r\n--b--"),
              "a part's Content-Disposition has an unclosed quote");
    EXPECT_EQ(refusal("--b\r\n" + part + "\r\n--b\r\n" + part + "\r\n--b--"), "accepted");
    EXPECT_EQ(refusal("--b\r\n" + std::string(9000, 'X') + ": y\r\n\r\n"),
              "a part's header section is too large");
}

TEST(MultipartParser, AFailedParserTakesNothingMore) {
    MultipartParser parser("b");
    Collector sink;
    EXPECT_FALSE(parser.feed("--b\r\n\r\n", sink));
    EXPECT_FALSE(parser.feed("--b--", sink));
    EXPECT_FALSE(parser.finish());
}

TEST(MultipartBoundary, FromTheContentType) {
    EXPECT_EQ(multipart_boundary("multipart/form-data; boundary=abc"), "abc");
    EXPECT_EQ(multipart_boundary("Multipart/Form-Data;charset=utf-8; BOUNDARY=\"a b'()+_,-./:=?\""),
              "a b'()+_,-./:=?");
    EXPECT_EQ(multipart_boundary("multipart/form-data"), "");
    EXPECT_EQ(multipart_boundary("multipart/form-data; boundary="), "");
    EXPECT_EQ(multipart_boundary("multipart/form-data; boundary=\"ends in space \""), "");
    EXPECT_EQ(multipart_boundary("multipart/form-data; boundary=" + std::string(71, 'a')), "");
    EXPECT_EQ(multipart_boundary("multipart/form-data; boundary=" + std::string(70, 'a')),
              std::string(70, 'a'));
    EXPECT_EQ(multipart_boundary("multipart/form-data; boundary=a; boundary=b"), "");
    EXPECT_EQ(multipart_boundary("multipart/form-data; boundary=\"a\\\"b\""), "");  // '"'
    EXPECT_EQ(multipart_boundary("multipart/mixed; boundary=abc"), "");
    EXPECT_EQ(multipart_boundary("multipart/form-data; boundary=\"unclosed"), "");
}

}  // namespace
}  // namespace flamecpp::detail
