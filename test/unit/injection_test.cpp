#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/describe/class.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include <flamecpp/app.hpp>
#include <flamecpp/body.hpp>
#include <flamecpp/injection.hpp>

#include "app/app_impl.hpp"
#include "app/components.hpp"
#include "http/request_builder.hpp"
#include "run.hpp"

namespace flamecpp {
namespace {

using detail::CallContext;

/// A request as the session builds it; `storage` keeps its bytes.
struct FakeRequest {
    std::string storage;
    Request request;

    FakeRequest(std::string target,
                std::vector<std::pair<std::string, std::string>> headers = {},
                std::string body = {}) {
        storage.reserve(4096);
        auto keep = [this](std::string_view v) {
            auto at = storage.size();
            storage.append(v);
            return std::string_view(storage).substr(at, v.size());
        };
        detail::RequestBuilder b(request);
        b.set_start(Method::post, keep("POST"), keep(target), 11);
        for (auto& [n, v] : headers) b.add_header(keep(n), keep(v));
        b.set_body(keep(body));
        b.set_client(keep("10.0.0.1:5555"));
    }
};

/// Calls `handler` as the session does, components included; the error, if any, as text.
template <class F>
Response call(App& app, F handler, Request& request, std::string* error = nullptr) {
    detail::FunctionHandler<F> h(handler);
    detail::ComponentScope scope(app.impl().components);
    CallContext ctx(request);
    ctx.app = &app;
    ctx.components = &scope;
    auto needs = detail::components_of(detail::FunctionHandler<F>::requirements());
    Response out;
    try {
        if (!detail::prepare_components_now(ctx, needs)) {
            test::run(detail::prepare_components(ctx, needs));
        }
        if (!h.call_sync(ctx, out)) {
            test::run(h.call_async(ctx, out));
        }
    } catch (const HTTPException& e) {
        if (error)
            *error = std::to_string(static_cast<int>(e.status())) + " " + e.detail();
        return Response::text("", e.status());
    }
    return out;
}

template <class F>
std::string call_text(F handler, FakeRequest&& fake, std::string* error = nullptr) {
    App app;
    return call(app, handler, fake.request, error).body();
}

// --- Query -------------------------------------------------------------------------------

std::string search(Query<"q"> q, Query<"limit", int, 10> limit) {
    return *q + "/" + std::to_string(*limit);
}

TEST(Query, ByNameWithDefault) {
    EXPECT_EQ(call_text(search, FakeRequest("/s?q=a+b&limit=5")), "a b/5");
    EXPECT_EQ(call_text(search, FakeRequest("/s?q=x")), "x/10");
}

TEST(Query, MissingRequiredIs400) {
    std::string error;
    call_text(search, FakeRequest("/s?limit=1"), &error);
    EXPECT_EQ(error, "400 query parameter 'q' is required");
}

TEST(Query, BadIntegerIs400NamingIt) {
    std::string error;
    call_text(search, FakeRequest("/s?q=x&limit=abc"), &error);
    EXPECT_EQ(error, "400 query parameter 'limit' must be an integer");
}

// An integer that does not fit is one: say so.
TEST(Query, IntegerTooLargeIs400OutOfRange) {
    std::string error;
    call_text(search, FakeRequest("/s?q=x&limit=99999999999999999999"), &error);
    EXPECT_EQ(error, "400 query parameter 'limit' is out of range");
    call_text(search, FakeRequest("/s?q=x&limit=99999999999"), &error);
    EXPECT_EQ(error, "400 query parameter 'limit' is out of range");
    call_text(search, FakeRequest("/s?q=x&limit=-99999999999"), &error);
    EXPECT_EQ(error, "400 query parameter 'limit' is out of range");
}

std::string optional_and_lists(Query<"page", std::optional<int>> page,
                               Query<"tag", std::vector<std::string>> tags,
                               Query<"debug", bool, false> debug,
                               Query<"ratio", double, 0.5> ratio,
                               Query<"sort", std::string, "asc"> sort) {
    std::string out = page->has_value() ? std::to_string(**page) : "none";
    for (auto& t : *tags) out += "," + t;
    out += *debug ? ",debug" : ",quiet";
    out += "," + std::to_string(*ratio).substr(0, 4) + "," + *sort;
    return out;
}

TEST(Query, OptionalsListsBoolsAndDefaults) {
    EXPECT_EQ(call_text(optional_and_lists, FakeRequest("/")), "none,quiet,0.50,asc");
    EXPECT_EQ(call_text(optional_and_lists,
                        FakeRequest("/?page=2&tag=a&tag=b%20c&debug=Yes&ratio=2&sort=desc")),
              "2,a,b c,debug,2.00,desc");
    std::string error;
    call_text(optional_and_lists, FakeRequest("/?debug=maybe"), &error);
    EXPECT_EQ(error, "400 query parameter 'debug' must be true or false");
    call_text(optional_and_lists, FakeRequest("/?page=x"), &error);
    EXPECT_EQ(error, "400 query parameter 'page' must be an integer");
}

// --- Header, Client, App ------------------------------------------------------------------

std::string headers(Header<"X-Count", int> count,
                    Header<"user-agent", std::optional<std::string_view>> agent,
                    Client client) {
    return std::to_string(*count) + "|" + std::string(agent->value_or("none")) + "|" +
           std::string(client.address);
}

TEST(Header, ByNameCaseInsensitive) {
    EXPECT_EQ(call_text(headers, FakeRequest("/", {{"x-count", "3"}, {"User-Agent", "curl"}})),
              "3|curl|10.0.0.1:5555");
    EXPECT_EQ(call_text(headers, FakeRequest("/", {{"X-Count", "1"}})), "1|none|10.0.0.1:5555");
    std::string error;
    call_text(headers, FakeRequest("/"), &error);
    EXPECT_EQ(error, "400 header 'X-Count' is required");
}

std::string server_name(App& app) { return std::to_string(app.limits().max_body_bytes); }

TEST(AppParameter, IsTheServingApp) {
    App app;
    app.limits().max_body_bytes = 77;
    FakeRequest fake("/");
    EXPECT_EQ(call(app, server_name, fake.request).body(), "77");
}

// The example of docs/injection.md, "The request, the client, the app".
flamecpp::Response whoami(flamecpp::Request& request, flamecpp::Client client, flamecpp::App& app) {
    std::string text = std::string(request.method_name()) + " " + std::string(request.target()) +
                       " from " + std::string(client.address) + ", body limit " +
                       std::to_string(app.limits().max_body_bytes);
    return flamecpp::Response::text(std::move(text));
}

TEST(AppParameter, DocsExampleWithRequestClientAndApp) {
    App app;
    FakeRequest fake("/me?x=1");
    EXPECT_EQ(call(app, whoami, fake.request).body(),
              "POST /me?x=1 from 10.0.0.1:5555, body limit 1048576");
}

// --- Body ----------------------------------------------------------------------------------

struct Owner {
    std::string name;
};
BOOST_DESCRIBE_STRUCT(Owner, (), (name))

struct Pet {
    std::string name;
    int age;
    double weight;
    bool vaccinated;
    std::vector<std::string> tags;
    std::optional<std::string> note;
    Owner owner;
    boost::json::value extra;
};
BOOST_DESCRIBE_STRUCT(Pet, (), (name, age, weight, vaccinated, tags, note, owner, extra))

std::string describe_pet(Body<Pet> pet) {
    return pet->name + " " + std::to_string(pet->age) + " " + std::to_string(pet->tags.size()) +
           " " + pet->note.value_or("-") + " " + pet->owner.name + " " +
           boost::json::serialize(pet->extra);
}

const char* good_pet = R"({"name":"Rex","age":3,"weight":12.5,"vaccinated":true,"tags":["a","b"],)"
                       R"("owner":{"name":"Ann"},"extra":{"k":[1]}})";

std::string body_error(std::string body, std::string type = "application/json") {
    std::string error;
    call_text(describe_pet, FakeRequest("/", {{"Content-Type", type}}, std::move(body)), &error);
    return error;
}

TEST(Body, BindsDescribedStruct) {
    EXPECT_EQ(call_text(describe_pet, FakeRequest("/", {}, good_pet)), "Rex 3 2 - Ann {\"k\":[1]}");
}

TEST(Body, OptionalFieldMayBeAbsentOrNull) {
    std::string with_null = std::string(good_pet);
    with_null.insert(1, R"("note":null,)");
    EXPECT_EQ(call_text(describe_pet, FakeRequest("/", {}, with_null)),
              "Rex 3 2 - Ann {\"k\":[1]}");
    std::string with_note = std::string(good_pet);
    with_note.insert(1, R"("note":"hi",)");
    EXPECT_EQ(call_text(describe_pet, FakeRequest("/", {}, with_note)),
              "Rex 3 2 hi Ann {\"k\":[1]}");
}

TEST(Body, MissingIsNotNull) {
    // `extra` would take a null, but absent it is still a 400.
    EXPECT_EQ(body_error(R"({"name":"R","age":1,"weight":1,"vaccinated":false,"tags":[],)"
                         R"("owner":{"name":"A"}})"),
              "400 field 'extra' is required");
}

TEST(Body, ErrorsNameTheField) {
    EXPECT_EQ(body_error(R"({"age":1})"), "400 field 'name' is required");
    EXPECT_EQ(body_error(R"({"name":1})"), "400 field 'name' must be a string");
    EXPECT_EQ(body_error(R"({"name":"R","age":"3"})"), "400 field 'age' must be an integer");
    EXPECT_EQ(body_error(R"({"name":"R","age":1.5})"), "400 field 'age' must be an integer");
    EXPECT_EQ(body_error(R"({"name":"R","age":99999999999})"), "400 field 'age' is out of range");
    EXPECT_EQ(body_error(R"({"name":"R","age":1,"weight":"x"})"),
              "400 field 'weight' must be a number");
    EXPECT_EQ(body_error(R"({"name":"R","age":1,"weight":1,"vaccinated":1})"),
              "400 field 'vaccinated' must be true or false");
    EXPECT_EQ(body_error(R"({"name":"R","age":1,"weight":1,"vaccinated":true,"tags":["a",2]})"),
              "400 field 'tags[1]' must be a string");
    EXPECT_EQ(body_error(R"({"name":"R","age":1,"weight":1,"vaccinated":true,"tags":[],)"
                         R"("owner":{}})"),
              "400 field 'owner.name' is required");
    EXPECT_EQ(body_error("[1,2]"), "400 the body must be an object");
}

TEST(Body, MalformedJsonIs400) {
    EXPECT_EQ(body_error(R"({"name": )").substr(0, 36), "400 the body is not valid JSON: The ");
    EXPECT_EQ(body_error(""), "400 the body is empty; a JSON document is required");
    EXPECT_EQ(body_error("{\"name\":\"\xff\"}").substr(0, 31), "400 the body is not valid JSON:");
}

TEST(Body, NonJsonContentTypeIs415) {
    EXPECT_EQ(body_error(good_pet, "text/plain"),
              "415 the body must be JSON (Content-Type: application/json)");
    EXPECT_EQ(body_error("{}", "application/problem+json; charset=utf-8"),
              "400 field 'name' is required");
}

std::string dynamic_body(Body<boost::json::value> value) { return boost::json::serialize(*value); }

TEST(Body, DynamicJsonValue) {
    EXPECT_EQ(call_text(dynamic_body, FakeRequest("/", {}, R"([1, {"a": null}])")),
              R"([1,{"a":null}])");
}

TEST(Body, DescribedStructReturnsAsJson) {
    auto owner = [](Request&) { return Owner{"Ann"}; };
    App app;
    FakeRequest fake("/");
    auto response = call(app, owner, fake.request);
    EXPECT_EQ(response.body(), R"({"name":"Ann"})");
    EXPECT_EQ(response.content_type(), "application/json");
}

TEST(Json, DoublesInShortestDecimalForm) {
    auto r = Response::json(boost::json::value{{"price", 1.5}, {"small", 0.1}, {"n", 2}});
    EXPECT_EQ(r.body(), R"({"price":1.5,"small":0.1,"n":2})");
}

// --- Components ----------------------------------------------------------------------------

struct Counter : Component {
    std::atomic<int> hits{0};
};

struct RequestTag : Component {
    std::string tag;
};

struct Greeting : Component {
    std::string text;
};

RequestTag make_tag(Header<"X-Tag", std::string, "anonymous"> tag) { return RequestTag{{}, *tag}; }

Task<Greeting> make_greeting(RequestTag& tag, Counter& counter) {
    ++counter.hits;
    co_return Greeting{{}, "hello " + tag.tag};
}

std::string count(Counter& counter) { return std::to_string(++counter.hits); }
std::string tagged(const RequestTag& tag) { return tag.tag; }
std::string greet(Greeting greeting, Counter& counter) {
    return greeting.text + " #" + std::to_string(counter.hits.load());
}

TEST(Component, SharedInstanceAcrossRequests) {
    App app;
    app.component(std::make_shared<Counter>());
    FakeRequest a("/"), b("/");
    EXPECT_EQ(call(app, count, a.request).body(), "1");
    EXPECT_EQ(call(app, count, b.request).body(), "2");
}

TEST(Component, FactoryRunsPerRequestAndSeesTheRequest) {
    App app;
    app.component<RequestTag>(make_tag);
    FakeRequest a("/", {{"X-Tag", "one"}}), b("/");
    EXPECT_EQ(call(app, tagged, a.request).body(), "one");
    EXPECT_EQ(call(app, tagged, b.request).body(), "anonymous");
}

TEST(Component, CoroutineFactoryDependingOnComponents) {
    App app;
    app.component(std::make_shared<Counter>());
    app.component<RequestTag>(make_tag);
    app.component<Greeting>(make_greeting);
    FakeRequest a("/", {{"X-Tag", "ann"}});
    EXPECT_EQ(call(app, greet, a.request).body(), "hello ann #1");
}

TEST(Component, MissingComponentStopsStartupNamingRouteAndType) {
    App app;
    app.route("/count", count);
    try {
        detail::validate_components(app.impl().router.routes(), app.impl().components);
        FAIL() << "expected a startup error";
    } catch (const std::invalid_argument& e) {
        std::string what = e.what();
        EXPECT_NE(what.find("route '/count'"), std::string::npos) << what;
        EXPECT_NE(what.find("flamecpp::(anonymous namespace)::Counter"), std::string::npos) << what;
    }
}

TEST(Component, MissingDependencyOfFactoryIsNamed) {
    App app;
    app.component<Greeting>(make_greeting);
    app.route("/greet", greet);
    try {
        detail::validate_components(app.impl().router.routes(), app.impl().components);
        FAIL() << "expected a startup error";
    } catch (const std::invalid_argument& e) {
        std::string what = e.what();
        EXPECT_NE(what.find("the factory of component"), std::string::npos) << what;
        EXPECT_NE(what.find("Greeting"), std::string::npos) << what;
    }
}

struct Chicken : Component {};
struct Egg : Component {};
Chicken make_chicken(Egg&) { return {}; }
Egg make_egg(Chicken&) { return {}; }
std::string farm(Chicken&) { return "?"; }

TEST(Component, FactoryCycleIsAStartupError) {
    App app;
    app.component<Chicken>(make_chicken);
    app.component<Egg>(make_egg);
    app.route("/farm", farm);
    EXPECT_THROW(detail::validate_components(app.impl().router.routes(), app.impl().components),
                 std::invalid_argument);
}

TEST(Component, RegisteringTwiceIsAnError) {
    App app;
    app.component(std::make_shared<Counter>());
    EXPECT_THROW(app.component(std::make_shared<Counter>()), std::invalid_argument);
}

// --- Compile-time route literals -------------------------------------------------------------

std::string user(Path<"user_id", int> id) { return std::to_string(*id); }

TEST(RouteLiteral, ConvertorLookup) {
    static_assert(detail::literal_convertor("/users/{user_id:int}", "user_id") ==
                  static_cast<int>(Convertor::int_));
    static_assert(detail::literal_convertor("/users/{user_id:int}", "id") == -1);
    static_assert(detail::literal_convertor("/a/{x}/{rest:path}", "rest") ==
                  static_cast<int>(Convertor::path));
    static_assert(detail::literal_convertor("/a/{x:integer}", "x") == detail::unknown_convertor);
    App app;
    app.route<"/users/{user_id:int}">(user);
    EXPECT_EQ(app.impl().router.routes().size(), 1u);
}

}  // namespace
}  // namespace flamecpp
