// The OpenAPI document made from handlers' types, and the Rules that both check and document.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include <flamecpp/body.hpp>
#include <flamecpp/flamecpp.hpp>
#include <flamecpp/forms.hpp>
#include <flamecpp/openapi.hpp>
#include <flamecpp/rules.hpp>
#include <flamecpp/testing.hpp>

namespace shop {

enum class Color { red, green, blue };
BOOST_DESCRIBE_ENUM(Color, red, green, blue)

struct Dimensions {
    double width = 0;
    double height = 0;
};
BOOST_DESCRIBE_STRUCT(Dimensions, (), (width, height))

struct Product {
    std::int64_t id = 0;
    std::int32_t stock = 0;
    std::uint8_t rating = 0;
    float weight = 0;
    double price = 0;
    bool active = false;
    std::string name;
    std::optional<std::string> note;
    std::vector<std::string> labels;
    std::map<std::string, int> counts;
    Color color = Color::red;
    Dimensions size;
    std::optional<Dimensions> box;
    flamecpp::Nullable<std::string> due;
    std::optional<flamecpp::Nullable<std::string>> reminder;
    boost::json::value extra;
};
BOOST_DESCRIBE_STRUCT(Product,
                      (),
                      (id,
                       stock,
                       rating,
                       weight,
                       price,
                       active,
                       name,
                       note,
                       labels,
                       counts,
                       color,
                       size,
                       box,
                       due,
                       reminder,
                       extra))
FLAMECPP_RULES(Product,
               (name, .min_length = 1, .max_length = 20, .pattern = "^[a-z ]+$"),
               (price, .maximum = 1000.5, .exclusive_minimum = 0),
               (labels, .max_length = 5, .min_items = 1, .max_items = 3),
               (note, .max_length = 4))

/// A tree: a type that holds itself.
struct Node {
    std::string name;
    std::vector<Node> children;
};
BOOST_DESCRIBE_STRUCT(Node, (), (name, children))

struct Signup {
    std::string email;
    int age = 0;
    std::optional<flamecpp::UploadFile> avatar;
};
BOOST_DESCRIBE_STRUCT(Signup, (), (email, age, avatar))
FLAMECPP_RULES(Signup, (age, .minimum = 18))

}  // namespace shop

namespace other {
/// Same short name as shop::Dimensions: the schema must keep both.
struct Dimensions {
    int depth = 0;
};
BOOST_DESCRIBE_STRUCT(Dimensions, (), (depth))
}  // namespace other

namespace flamecpp {
namespace {

namespace json = boost::json;
using shop::Product;

Product product_of(Body<Product> body) { return *body; }

std::vector<shop::Node> nodes(Body<shop::Node> body) { return {*body}; }

std::string search(Query<"q", std::string, no_default, Rules{.min_length = 2}> q,
                   Query<"limit", int, 50, Rules{.minimum = 1, .maximum = 100}> limit,
                   Query<"tag", std::vector<std::string>, no_default, Rules{.max_items = 2}> tags,
                   Query<"price", std::optional<double>> price,
                   Header<"X-Trace", std::optional<std::string>> trace,
                   Cookie<"session", std::string, "anon"> session) {
    return *q + std::to_string(*limit) + std::to_string(tags->size()) +
           std::to_string(price->value_or(0)) + trace->value_or("") + *session;
}

std::string item(Path<"id", std::int64_t, Rules{.minimum = 1}> id) { return std::to_string(*id); }

shop::Dimensions dims(Body<other::Dimensions> body) { return {double(body->depth), 0}; }

std::string signup(Form<shop::Signup> form) { return form->email; }

struct Thing : HTTPEndpoint {
    static inline const Operation get_doc{.summary = "Read a thing", .tags = {"things"}};
    Product get(Path<"id", int> id) { return Product{.id = *id}; }
    static inline const Operation delete_doc{.summary = "Delete a thing", .deprecated = true};
    Response delete_(Path<"id", int>) { return Response::empty(); }
};

App make_app() {
    App app;
    app.route("/products", product_of, {Method::post}, "create_product",
              {.doc = {.summary = "Create a product",
                       .description = "Makes one.",
                       .tags = {"products"},
                       .responses = {responds<Product>(Status::created, "Made", {"Location"})}}});
    app.route("/nodes", nodes, {Method::post});
    app.route("/search", search);
    app.route("/items/{id:int}", item, {Method::get}, "item");
    app.route("/dims", dims, {Method::post});
    app.route("/signup", signup, {Method::post});
    app.route<Thing>("/things/{id:int}", "thing");
    app.route("/hidden", [] { return "no"; }, {Method::get}, {},
              {.doc = {.include_in_schema = false}});
    Router api;
    api.route("/ping", [] { return "pong"; }, {Method::get}, "ping", {.doc = {.summary = "Ping"}});
    app.mount("/api", std::move(api), "api");
    app.websocket_route("/ws", [](WebSocket&, Data) {});
    return app;
}

json::value document() {
    App app = make_app();
    return json::parse(openapi_json(app, {.title = "shop", .version = "2.0"}));
}

const json::object& schema(const json::value& doc, std::string_view name) {
    return doc.at("components").at("schemas").at(name).as_object();
}

TEST(OpenAPI, DocumentHeader) {
    auto doc = document();
    EXPECT_EQ(doc.at("openapi"), "3.1.0");
    EXPECT_EQ(doc.at("info").at("title"), "shop");
    EXPECT_EQ(doc.at("info").at("version"), "2.0");
}

TEST(OpenAPI, EveryDocumentedRouteAndMethod) {
    auto doc = document();
    const auto& paths = doc.at("paths").as_object();
    EXPECT_TRUE(paths.at("/products").as_object().contains("post"));
    EXPECT_TRUE(paths.at("/search").as_object().contains("get"));
    EXPECT_FALSE(paths.at("/search").as_object().contains("head")) << "HEAD is GET's";
    EXPECT_TRUE(paths.at("/items/{id}").as_object().contains("get"));
    EXPECT_TRUE(paths.at("/api/ping").as_object().contains("get")) << "mounted routes";
    EXPECT_TRUE(paths.at("/things/{id}").as_object().contains("get"));
    EXPECT_TRUE(paths.at("/things/{id}").as_object().contains("delete"));
    EXPECT_FALSE(paths.contains("/hidden"));
    EXPECT_FALSE(paths.contains("/ws")) << "WebSocket routes are not operations";
}

TEST(OpenAPI, OperationFields) {
    auto doc = document();
    const auto& op = doc.at("paths").at("/products").at("post");
    EXPECT_EQ(op.at("operationId"), "create_product");
    EXPECT_EQ(op.at("summary"), "Create a product");
    EXPECT_EQ(op.at("description"), "Makes one.");
    EXPECT_EQ(op.at("tags"), json::array{"products"});
    EXPECT_EQ(doc.at("paths").at("/api/ping").at("get").at("operationId"), "api_ping");
    const auto& thing = doc.at("paths").at("/things/{id}");
    EXPECT_EQ(thing.at("get").at("summary"), "Read a thing");
    EXPECT_EQ(thing.at("get").at("operationId"), "thing_get");
    EXPECT_EQ(thing.at("delete").at("deprecated"), true);
    EXPECT_EQ(thing.at("delete").at("operationId"), "thing_delete");
    // Unnamed routes get an id from the method and path.
    EXPECT_EQ(doc.at("paths").at("/search").at("get").at("operationId"), "get_search");
}

TEST(OpenAPI, Parameters) {
    auto doc = document();
    const auto& params = doc.at("paths").at("/search").at("get").at("parameters").as_array();
    auto find = [&](std::string_view name) -> const json::object& {
        for (const auto& p : params) {
            if (p.at("name").as_string() == name)
                return p.as_object();
        }
        ADD_FAILURE() << "no parameter " << name;
        static json::object none;
        return none;
    };
    const auto& q = find("q");
    EXPECT_EQ(q.at("in"), "query");
    EXPECT_EQ(q.at("required"), true);
    EXPECT_EQ(q.at("schema"), (json::object{{"type", "string"}, {"minLength", 2}}));
    const auto& limit = find("limit");
    EXPECT_EQ(limit.at("required"), false);
    EXPECT_EQ(limit.at("schema"), (json::object{{"type", "integer"},
                                                {"format", "int32"},
                                                {"minimum", 1},
                                                {"maximum", 100},
                                                {"default", 50}}));
    const auto& tag = find("tag");
    EXPECT_EQ(tag.at("required"), false);
    EXPECT_EQ(tag.at("schema").at("type"), "array");
    EXPECT_EQ(tag.at("schema").at("maxItems"), 2);
    EXPECT_EQ(find("price").at("schema"),
              (json::object{{"type", json::array{"number", "null"}}, {"format", "double"}}));
    EXPECT_EQ(find("X-Trace").at("in"), "header");
    EXPECT_EQ(find("X-Trace").at("required"), false);
    EXPECT_EQ(find("session").at("in"), "cookie");
    EXPECT_EQ(find("session").at("schema").at("default"), "anon");

    const auto& id = doc.at("paths").at("/items/{id}").at("get").at("parameters").at(0);
    EXPECT_EQ(id.at("in"), "path");
    EXPECT_EQ(id.at("required"), true);
    EXPECT_EQ(id.at("schema"),
              (json::object{{"type", "integer"}, {"format", "int64"}, {"minimum", 1}}));
}

TEST(OpenAPI, StructSchema) {
    auto doc = document();
    const auto& p = schema(doc, "Product");
    EXPECT_EQ(p.at("type"), "object");
    const auto& props = p.at("properties").as_object();
    EXPECT_EQ(props.at("id"), (json::object{{"type", "integer"}, {"format", "int64"}}));
    EXPECT_EQ(props.at("stock"), (json::object{{"type", "integer"}, {"format", "int32"}}));
    EXPECT_EQ(
        props.at("rating"),
        (json::object{{"type", "integer"}, {"format", "int32"}, {"minimum", 0}, {"maximum", 255}}));
    EXPECT_EQ(props.at("weight"), (json::object{{"type", "number"}, {"format", "float"}}));
    EXPECT_EQ(props.at("price"), (json::object{{"type", "number"},
                                               {"format", "double"},
                                               {"maximum", 1000.5},
                                               {"exclusiveMinimum", 0}}));
    EXPECT_EQ(props.at("active"), (json::object{{"type", "boolean"}}));
    EXPECT_EQ(
        props.at("name"),
        (json::object{
            {"type", "string"}, {"minLength", 1}, {"maxLength", 20}, {"pattern", "^[a-z ]+$"}}));
    EXPECT_EQ(props.at("note"),
              (json::object{{"type", json::array{"string", "null"}}, {"maxLength", 4}}));
    EXPECT_EQ(props.at("labels"),
              (json::object{{"type", "array"},
                            {"items", json::object{{"type", "string"}, {"maxLength", 5}}},
                            {"minItems", 1},
                            {"maxItems", 3}}));
    EXPECT_EQ(props.at("counts"),
              (json::object{{"type", "object"},
                            {"additionalProperties",
                             json::object{{"type", "integer"}, {"format", "int32"}}}}));
    EXPECT_EQ(props.at("color"), (json::object{{"$ref", "#/components/schemas/Color"}}));
    EXPECT_EQ(props.at("size"), (json::object{{"$ref", "#/components/schemas/Dimensions"}}));
    EXPECT_EQ(props.at("box"),
              (json::object{
                  {"anyOf", json::array{json::object{{"$ref", "#/components/schemas/Dimensions"}},
                                        json::object{{"type", "null"}}}}}));
    EXPECT_EQ(props.at("due"), (json::object{{"type", json::array{"string", "null"}}}));
    EXPECT_EQ(props.at("reminder"), (json::object{{"type", json::array{"string", "null"}}}));
    EXPECT_EQ(props.at("extra"), json::object{});
    // Required: everything but the std::optional fields; Nullable is required (may be null).
    json::array required = p.at("required").as_array();
    std::vector<std::string> names;
    for (const auto& r : required) names.emplace_back(r.as_string());
    EXPECT_EQ(names, (std::vector<std::string>{"id", "stock", "rating", "weight", "price", "active",
                                               "name", "labels", "counts", "color", "size", "due",
                                               "extra"}));
    EXPECT_EQ(schema(doc, "Color"), (json::object{{"title", "Color"},
                                                  {"type", "string"},
                                                  {"enum", json::array{"red", "green", "blue"}}}));
}

TEST(OpenAPI, RecursiveTypeByRef) {
    auto doc = document();
    const auto& node = schema(doc, "Node");
    EXPECT_EQ(node.at("properties").at("children"),
              (json::object{{"type", "array"},
                            {"items", json::object{{"$ref", "#/components/schemas/Node"}}}}));
    const auto& ok = doc.at("paths").at("/nodes").at("post").at("responses").at("200");
    EXPECT_EQ(ok.at("content").at("application/json").at("schema"),
              (json::object{{"type", "array"},
                            {"items", json::object{{"$ref", "#/components/schemas/Node"}}}}));
}

TEST(OpenAPI, SameShortNameKeepsBoth) {
    auto doc = document();
    const auto& schemas = doc.at("components").at("schemas").as_object();
    EXPECT_TRUE(schemas.contains("Dimensions"));
    EXPECT_TRUE(schemas.contains("other.Dimensions") || schemas.contains("other_Dimensions"))
        << json::serialize(doc.at("components"));
}

TEST(OpenAPI, BodiesAndResponses) {
    auto doc = document();
    const auto& op = doc.at("paths").at("/products").at("post");
    EXPECT_EQ(op.at("requestBody").at("content").at("application/json").at("schema"),
              (json::object{{"$ref", "#/components/schemas/Product"}}));
    EXPECT_EQ(op.at("requestBody").at("required"), true);
    const auto& responses = op.at("responses").as_object();
    EXPECT_FALSE(responses.contains("200")) << "a declared 2xx replaces the default";
    EXPECT_EQ(responses.at("201").at("description"), "Made");
    EXPECT_TRUE(responses.at("201").at("headers").as_object().contains("Location"));
    EXPECT_EQ(responses.at("400").at("content").at("application/json").at("schema"),
              (json::object{{"$ref", "#/components/schemas/Error"}}));
    EXPECT_TRUE(responses.contains("415"));
    EXPECT_EQ(schema(doc, "Error").at("required"), json::array{"detail"});

    // A typed return documents 200 with its schema; a path parameter without rules gives no 400
    // (it does not match: a 404).
    const auto& get = doc.at("paths").at("/things/{id}").at("get").at("responses").as_object();
    EXPECT_EQ(get.at("200").at("content").at("application/json").at("schema"),
              (json::object{{"$ref", "#/components/schemas/Product"}}));
    EXPECT_FALSE(get.contains("400"));
    // A string return is text/plain.
    const auto& search = doc.at("paths").at("/search").at("get").at("responses");
    EXPECT_TRUE(search.at("200").at("content").as_object().contains("text/plain"));
    EXPECT_TRUE(search.as_object().contains("400"));
}

TEST(OpenAPI, Forms) {
    auto doc = document();
    const auto& content =
        doc.at("paths").at("/signup").at("post").at("requestBody").at("content").as_object();
    EXPECT_TRUE(content.contains("multipart/form-data"));
    EXPECT_FALSE(content.contains("application/x-www-form-urlencoded")) << "it has a file";
    const auto& s = schema(doc, "Signup");
    EXPECT_EQ(s.at("properties").at("avatar"),
              (json::object{{"type", json::array{"string", "null"}}, {"format", "binary"}}));
    EXPECT_EQ(s.at("properties").at("age").at("minimum"), 18);
}

TEST(OpenAPI, DuplicateOperationIdIsRefused) {
    App app;
    app.route("/a", [] { return "a"; }, {Method::get}, {}, {.doc = {.operation_id = "same"}});
    app.route("/b", [] { return "b"; }, {Method::get}, {}, {.doc = {.operation_id = "same"}});
    try {
        openapi_json(app);
        FAIL() << "expected std::invalid_argument";
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("'same'"), std::string::npos) << e.what();
    }
}

std::string bad_pattern(Query<"q", std::string, no_default, Rules{.pattern = "([a-z"}> q) {
    return *q;
}

TEST(OpenAPI, BadPatternIsRefusedAtRegistration) {
    App app;
    try {
        app.route("/bad", bad_pattern);
        FAIL() << "expected std::invalid_argument";
    } catch (const std::invalid_argument& e) {
        std::string what = e.what();
        EXPECT_NE(what.find("/bad"), std::string::npos) << what;
        EXPECT_NE(what.find("([a-z"), std::string::npos) << what;
    }
}

// --- Rules, checked on real requests -------------------------------------------------------

class RulesTest : public ::testing::Test {
protected:
    testing::TestClient client{make_app()};
};

TEST_F(RulesTest, QueryBounds) {
    EXPECT_EQ(client.get("/search?q=ab").status, 200);
    auto r = client.get("/search?q=ab&limit=0");
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.json().at("detail"), "query parameter 'limit' must be at least 1");
    r = client.get("/search?q=ab&limit=101");
    EXPECT_EQ(r.json().at("detail"), "query parameter 'limit' must be at most 100");
    r = client.get("/search?q=a");
    EXPECT_EQ(r.json().at("detail"), "query parameter 'q' must be at least 2 characters long");
    r = client.get("/search?q=ab&tag=a&tag=b&tag=c");
    EXPECT_EQ(r.json().at("detail"), "query parameter 'tag' must have at most 2 items");
}

TEST_F(RulesTest, PathBounds) {
    EXPECT_EQ(client.get("/items/1").status, 200);
    auto r = client.get("/items/0");
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.json().at("detail"), "path parameter 'id' must be at least 1");
}

json::object valid_product() {
    return json::object{{"id", 1},
                        {"stock", 2},
                        {"rating", 3},
                        {"weight", 1.5},
                        {"price", 9.5},
                        {"active", true},
                        {"name", "milk"},
                        {"labels", json::array{"a"}},
                        {"counts", json::object{{"x", 1}}},
                        {"color", "green"},
                        {"size", json::object{{"width", 1}, {"height", 2}}},
                        {"due", nullptr},
                        {"extra", json::array{1}}};
}

TEST_F(RulesTest, BodyFields) {
    auto ok = client.post("/products", {.json = valid_product()});
    ASSERT_EQ(ok.status, 200) << ok.body;
    EXPECT_EQ(ok.json().at("color"), "green");
    EXPECT_EQ(ok.json().at("counts"), (json::object{{"x", 1}}));
    EXPECT_TRUE(ok.json().at("due").is_null());

    auto with = [](std::string_view key, json::value v) {
        auto o = valid_product();
        o[key] = std::move(v);
        return o;
    };
    auto detail = [&](json::object body) {
        auto r = client.post("/products", {.json = std::move(body)});
        EXPECT_EQ(r.status, 400) << r.body;
        return std::string(r.json().at("detail").as_string());
    };
    EXPECT_EQ(detail(with("name", "")), "field 'name' must not be empty");
    EXPECT_EQ(detail(with("name", json::string(std::string(21, 'a')))),
              "field 'name' must be at most 20 characters long");
    EXPECT_EQ(detail(with("name", "Milk")), "field 'name' must match the pattern ^[a-z ]+$");
    EXPECT_EQ(detail(with("price", 0)), "field 'price' must be greater than 0");
    EXPECT_EQ(detail(with("price", 1000.6)), "field 'price' must be at most 1000.5");
    EXPECT_EQ(detail(with("labels", json::array{})), "field 'labels' must have at least 1 item");
    EXPECT_EQ(detail(with("labels", json::array{"abcdef"})),
              "field 'labels' must be at most 5 characters long");
    EXPECT_EQ(detail(with("note", "12345")), "field 'note' must be at most 4 characters long");
    EXPECT_EQ(detail(with("color", "pink")),
              "field 'color' must be one of \"red\", \"green\", \"blue\"");
    EXPECT_EQ(detail(with("counts", json::object{{"x", "one"}})),
              "field 'counts.x' must be an integer");
    // Length counts characters, not bytes: 20 two-byte characters fit.
    std::string umlauts;
    for (int i = 0; i < 20; ++i) umlauts += "\xC3\xA4";
    auto r = client.post("/products", {.json = with("name", json::string(umlauts))});
    EXPECT_EQ(r.status, 400) << "the pattern is ASCII";
    EXPECT_EQ(r.json().at("detail"), "field 'name' must match the pattern ^[a-z ]+$");
    auto note =
        client.post("/products", {.json = with("note", json::string(umlauts.substr(0, 8)))});
    EXPECT_EQ(note.status, 200) << "4 characters in 8 bytes: " << note.body;
    EXPECT_EQ(detail(with("note", json::string(umlauts.substr(0, 10)))),
              "field 'note' must be at most 4 characters long");
    auto no_due = valid_product();
    no_due.erase("due");
    EXPECT_EQ(detail(no_due), "field 'due' is required");
}

TEST_F(RulesTest, FormFields) {
    auto r = client.post("/signup", {.form = {{"email", "a@b"}, {"age", "17"}}});
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.json().at("detail"), "form field 'age' must be at least 18");
    EXPECT_EQ(client.post("/signup", {.form = {{"email", "a@b"}, {"age", "18"}}}).status, 200);
}

std::string bounded(
    Header<"X-Ratio", double, no_default, Rules{.exclusive_maximum = 1}> ratio,
    Cookie<"theme", std::string, "light", Rules{.pattern = "^(light|dark)$"}> theme) {
    return std::to_string(*ratio) + *theme;
}

TEST(RulesSchema, HeaderAndCookieRules) {
    App app;
    app.route("/bounded", bounded);
    auto doc = json::parse(openapi_json(app));
    const auto& params = doc.at("paths").at("/bounded").at("get").at("parameters").as_array();
    EXPECT_EQ(params.at(0).at("in"), "header");
    EXPECT_EQ(params.at(0).at("schema"),
              (json::object{{"type", "number"}, {"format", "double"}, {"exclusiveMaximum", 1}}));
    EXPECT_EQ(params.at(1).at("in"), "cookie");
    EXPECT_EQ(
        params.at(1).at("schema"),
        (json::object{{"type", "string"}, {"pattern", "^(light|dark)$"}, {"default", "light"}}));

    testing::TestClient client(std::move(app));
    EXPECT_EQ(client.get("/bounded", {.headers = {{"X-Ratio", "0.5"}}}).status, 200);
    auto r = client.get("/bounded", {.headers = {{"X-Ratio", "1"}}});
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.json().at("detail"), "header 'X-Ratio' must be less than 1");
    r = client.get("/bounded", {.headers = {{"X-Ratio", "0.5"}, {"Cookie", "theme=blue"}}});
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.json().at("detail"), "cookie 'theme' must match the pattern ^(light|dark)$");
}

// --- Absent and null -----------------------------------------------------------------------

struct Patch {
    std::optional<Nullable<std::string>> due;
    std::optional<std::string> title;
};
BOOST_DESCRIBE_STRUCT(Patch, (), (due, title))

std::string describe_patch(Body<Patch> patch) {
    std::string out = !patch->due ? "absent" : !*patch->due ? "null" : **patch->due;
    return out + "/" + (patch->title ? *patch->title : "none");
}

TEST(AbsentAndNull, ThreeStates) {
    App app;
    app.route("/patch", describe_patch, {Method::patch});
    testing::TestClient client(std::move(app));
    EXPECT_EQ(client.patch("/patch", {.json = json::object{}}).body, "absent/none");
    EXPECT_EQ(client.patch("/patch", {.json = json::object{{"due", nullptr}}}).body, "null/none");
    EXPECT_EQ(client.patch("/patch", {.json = json::object{{"due", "2027-01-01"}}}).body,
              "2027-01-01/none");
    EXPECT_EQ(client.patch("/patch", {.json = json::object{{"title", nullptr}}}).body,
              "absent/none");
    auto r = client.patch("/patch", {.json = json::object{{"due", 5}}});
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.json().at("detail"), "field 'due' must be a string");
}

// --- Typed answers -------------------------------------------------------------------------

TEST(TypedAnswers, ResponseJsonTakesDescribedStructsAndVectors) {
    shop::Dimensions d{1.5, 2};
    auto r = Response::json(d, Status::created);
    EXPECT_EQ(r.status(), Status::created);
    EXPECT_EQ(json::parse(r.body()), (json::object{{"width", 1.5}, {"height", 2.0}}));
    std::vector<shop::Dimensions> list{d, d};
    EXPECT_EQ(json::parse(Response::json(list).body()).as_array().size(), 2u);
    std::map<std::string, shop::Color> colors{{"sky", shop::Color::blue}};
    EXPECT_EQ(json::parse(Response::json(colors).body()), (json::object{{"sky", "blue"}}));
    Nullable<int> none;
    EXPECT_TRUE(boost::json::value_from(none).is_null());
}

}  // namespace
}  // namespace flamecpp
