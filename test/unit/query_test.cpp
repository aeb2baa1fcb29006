#include <string>

#include <gtest/gtest.h>

#include "text/percent.hpp"

namespace flamecpp::detail {
namespace {

TEST(Query, FindsDecodedValues) {
    EXPECT_EQ(find_query_param("q=a+b%21&limit=5", "q"), "a b!");
    EXPECT_EQ(find_query_param("q=a+b%21&limit=5", "limit"), "5");
    EXPECT_EQ(find_query_param("q=1&q=2", "q"), "1");
    EXPECT_EQ(find_query_param("flag&x=1", "flag"), "");
    EXPECT_EQ(find_query_param("x=1", "q"), std::nullopt);
    EXPECT_EQ(find_query_param("", "q"), std::nullopt);
    EXPECT_EQ(find_query_param("a%20b=c", "a b"), "c");
}

TEST(Query, LastValueStopsAtEndOfView) {
    // The view ends before the bytes that follow it in memory (the regression behind not
    // using boost::urls::parse_query in Boost 1.81).
    std::string store = "q=stillHost127.0.0.1";
    EXPECT_EQ(find_query_param(std::string_view(store).substr(0, 7), "q"), "still");
}

TEST(Query, BadEscapesAreSkipped) { EXPECT_EQ(find_query_param("q=%zz&q=ok", "q"), "ok"); }

TEST(PercentDecode, PathKeepsPlus) {
    std::string out;
    ASSERT_TRUE(percent_decode_append("a+b%2Fc", out));
    EXPECT_EQ(out, "a+b/c");
    std::string bad;
    EXPECT_FALSE(percent_decode_append("%G1", bad));
    EXPECT_TRUE(bad.empty());
}

}  // namespace
}  // namespace flamecpp::detail
