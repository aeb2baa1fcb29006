// Urlencoded forms through TestClient: FormData keeps every field in order, Form<T> binds a
// described struct and names the field it cannot bind.
#include <optional>
#include <string>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/value_from.hpp>
#include <gtest/gtest.h>

#include <flamecpp/flamecpp.hpp>
#include <flamecpp/forms.hpp>
#include <flamecpp/json.hpp>
#include <flamecpp/testing.hpp>

namespace {

struct Signup {
    std::string email;
    int age;
    bool newsletter;
    std::optional<std::string> referrer;
    std::vector<std::string> topics;
};
BOOST_DESCRIBE_STRUCT(Signup, (), (email, age, newsletter, referrer, topics))

}  // namespace

namespace flamecpp {
namespace {

using testing::ClientOptions;
using testing::TestClient;

ClientOptions quiet() { return ClientOptions{.log_level = LogLevel::off}; }

testing::RequestOptions form(std::string body) {
    return {.headers = {{"Content-Type", "application/x-www-form-urlencoded"}},
            .body = std::move(body)};
}

TEST(UrlencodedDecoding, TheWhatwgRules) {
    std::vector<FormData::Field> fields;
    ASSERT_TRUE(detail::decode_urlencoded("a=1&b=x+y&b=z%21&&bare&=v&e=", fields));
    const std::vector<FormData::Field> expected = {{"a", "1"},   {"b", "x y"}, {"b", "z!"},
                                                   {"bare", ""}, {"", "v"},    {"e", ""}};
    EXPECT_EQ(fields, expected);
    fields.clear();
    ASSERT_TRUE(detail::decode_urlencoded("q=a=b%3Dc", fields));
    EXPECT_EQ(fields.front().second, "a=b=c");  // only the first '=' separates
    for (const char* bad : {"a=%zz", "a=%", "%g0=1", "a=1&b=%2"}) {
        fields = {{"kept", ""}};
        EXPECT_FALSE(detail::decode_urlencoded(bad, fields)) << bad;
        EXPECT_EQ(fields.size(), 1u) << bad;
    }
}

TEST(FormDataInjection, EveryFieldInOrder) {
    App app;
    app.route("/echo",
              [](FormData data) {
                  std::string out;
                  for (const auto& [name, value] : data.fields()) {
                      out += name + "=" + value + ";";
                  }
                  out += "first b: " + std::string(data.get("b").value_or("-"));
                  out += ", all b: " + std::to_string(data.get_all("b").size());
                  out += ", has z: " + std::string(data.contains("z") ? "yes" : "no");
                  return out;
              },
              {Method::post});
    TestClient client(std::move(app), quiet());
    auto r = client.post("/echo", form("a=1&b=x+y&b=z%21"));
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.text(), "a=1;b=x y;b=z!;first b: x y, all b: 2, has z: no");
    // Content-Type parameters and case do not matter.
    auto typed = client.post(
        "/echo", {.headers = {{"Content-Type", "Application/X-WWW-Form-Urlencoded; charset=UTF-8"}},
                  .body = "a=1"});
    EXPECT_EQ(typed.status, 200);
    EXPECT_EQ(client.post("/echo", {.body = "a=1"}).status, 415);
    EXPECT_EQ(client.post("/echo", form("a=%zz")).status, 400);
}

TEST(FormInjection, BindsADescribedStruct) {
    App app;
    app.route("/signup",
              [](Form<Signup> signup) {
                  return boost::json::value{{"email", signup->email},
                                            {"age", signup->age},
                                            {"newsletter", signup->newsletter},
                                            {"referrer", signup->referrer.value_or("none")},
                                            {"topics", boost::json::value_from(signup->topics)}};
              },
              {Method::post});
    TestClient client(std::move(app), quiet());
    auto r = client.post("/signup", form("email=a%40b.c&age=42&newsletter=true&topics=c%2B%2B&"
                                         "topics=http"));
    EXPECT_EQ(r.status, 200) << r.text();
    EXPECT_EQ(r.json(), boost::json::parse(R"({"email":"a@b.c","age":42,"newsletter":true,)"
                                           R"("referrer":"none","topics":["c++","http"]})"));

    auto missing = client.post("/signup", form("age=42&newsletter=false"));
    EXPECT_EQ(missing.status, 400);
    EXPECT_EQ(missing.json().at("detail"), "form field 'email' is required");
    auto bad = client.post("/signup", form("email=x&age=old&newsletter=false"));
    EXPECT_EQ(bad.status, 400);
    EXPECT_EQ(bad.json().at("detail"), "form field 'age' must be an integer");
    auto flag = client.post("/signup", form("email=x&age=1&newsletter=maybe"));
    EXPECT_EQ(flag.status, 400);
    EXPECT_EQ(flag.json().at("detail"), "form field 'newsletter' must be true or false");
}

}  // namespace
}  // namespace flamecpp
