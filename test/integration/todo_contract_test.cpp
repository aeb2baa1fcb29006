// Integration tests of the `todo` sample against the samples' contract (docs/samples.md): the
// rules every sample shares (sample_contract_tests.hpp) and the `todo` table: the OpenAPI
// document and the docs page, the REST routes on SQLite, a restart on the same database file,
// and 200 clients at once, over real loopback sockets against the real binary. The validators
// the contract names (`redocly lint`, swagger-parser) and the docs page in Chromium are
// test/browser/openapi_check.cjs and todo_docs_check.cjs (ctest todo.openapi, todo.browser).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <latch>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <gtest/gtest.h>
#include <unistd.h>

#include "contract_checks.hpp"
#include "http_client.hpp"
#include "process.hpp"
#include "sample_contract_tests.hpp"

#ifndef FLAMECPP_SAMPLE_TODO
#error "FLAMECPP_SAMPLE_TODO must be defined as the path of the todo sample executable"
#endif

namespace flamecpp::test {
namespace {

using namespace std::chrono_literals;
using Headers = std::vector<std::pair<std::string, std::string>>;
namespace fs = std::filesystem;
namespace json = boost::json;

constexpr std::string_view kNoTodos = "[]";
constexpr std::string_view kTodo1NotFound = R"({"detail":"todo 1 not found"})";

// The shared suites' servers never create a todo: their POSTs carry bodies that are not JSON.
constexpr Exchange kTodoPipeline[] = {
    {"/todos", 200, kNoTodos},
    {"/todos/1", 404, kTodo1NotFound},
    {"/todos?limit=101", 400, std::nullopt},
    {"/todos", 200, kNoTodos},
};

constexpr Probe kTodoProbes[] = {
    {"GET", "/todos"},        {"GET", "/todos?limit=0"}, {"GET", "/todos/1"},
    {"GET", "/todos/abc"},    {"GET", "/openapi.json"},  {"GET", "/docs"},
    {"POST", "/todos"},  // an empty body: 400
    {"PATCH", "/todos/1"},    {"DELETE", "/todos/1"},    {"PUT", "/todos"},
    {"GET", "/no/such/path"},
};

constexpr SampleTraits kTodo{
    .name = "todo",
    .executable = FLAMECPP_SAMPLE_TODO,
    .ok = {"/todos", 200, kNoTodos},
    .next = {"/todos/1", 404, kTodo1NotFound},
    .pipeline = kTodoPipeline,
    .probes = kTodoProbes,
    .post_status = 400,  // POST /todos with a body that is not JSON
    // "An unknown path may answer the plain-text 404 of every sample or a JSON
    // {"detail":"Not Found"}": any type here (the body says "Not Found" either way);
    // TodoRoutes.UnknownPathIsPlainTextOrJsonNotFound checks which.
    .not_found_type = "",
};

INSTANTIATE_TEST_SUITE_P(TodoContract, CommandLine, ::testing::Values(kTodo));
INSTANTIATE_TEST_SUITE_P(TodoContract, Lifecycle, ::testing::Values(kTodo));
INSTANTIATE_TEST_SUITE_P(TodoContract, Http, ::testing::Values(kTodo));
INSTANTIATE_TEST_SUITE_P(TodoContract, Limits, ::testing::Values(kTodo));
INSTANTIATE_TEST_SUITE_P(TodoContract, SlowLimits, ::testing::Values(kTodo));

// ---------------------------------------------------------------------------------------------
// Helpers.

const Headers kJsonType = {{"Content-Type", "application/json"}};

Response Send(std::uint16_t port,
              std::string_view method,
              std::string_view target,
              std::string_view body = {},
              const Headers& headers = {}) {
    RawConnection c(port);
    Headers all = headers;
    if (body.empty() && method != "GET" && method != "HEAD") {
        all.emplace_back("Content-Length", "0");
    }
    c.send(make_request(method, target, all, body));
    return c.read_response(kIo);
}

Response Get(std::uint16_t port, std::string_view target) { return Send(port, "GET", target); }

std::string TodoPath(std::int64_t id) { return "/todos/" + std::to_string(id); }

Response Post(std::uint16_t port, std::string_view body) {
    return Send(port, "POST", "/todos", body, kJsonType);
}

Response Patch(std::uint16_t port, std::int64_t id, std::string_view body) {
    return Send(port, "PATCH", TodoPath(id), body, kJsonType);
}

Response Delete(std::uint16_t port, std::int64_t id) { return Send(port, "DELETE", TodoPath(id)); }

/// The body of POST /todos: {"title": title} and "completed" when given.
std::string TodoJson(std::string_view title, std::optional<bool> completed = std::nullopt) {
    json::object body;
    body["title"] = json::string_view(title.data(), title.size());
    if (completed.has_value()) {
        body["completed"] = *completed;
    }
    return json::serialize(body);
}

/// The answer {"detail":"todo ID not found"} of an unknown id.
std::string NotFound(std::int64_t id) {
    return R"({"detail":"todo )" + std::to_string(id) + R"( not found"})";
}

/// `s` repeated `times` times.
std::string Repeat(std::string_view s, int times) {
    std::string out;
    for (int i = 0; i < times; ++i) {
        out.append(s);
    }
    return out;
}

std::string Str(const json::value* v) {
    if (v == nullptr || !v->is_string()) {
        return {};
    }
    const json::string& s = v->as_string();
    return std::string(s.data(), s.size());
}

// The body parsed as JSON; a test failure (and null) if it is not JSON.
json::value JsonOf(const Response& r) {
    boost::system::error_code ec;
    json::value v = json::parse(r.body, ec);
    EXPECT_FALSE(ec) << "status " << r.status << ": the body is not JSON: " << r.body;
    return ec ? json::value() : v;
}

// A JSON answer: status, application/json, and a body equal to `expected` as JSON.
void ExpectJson(const Response& r, int status, std::string_view expected) {
    EXPECT_EQ(r.status, status) << "body: " << r.body;
    EXPECT_TRUE(starts_with_ci(r.header("Content-Type").value_or(""), "application/json"))
        << "Content-Type: " << r.header("Content-Type").value_or("<none>");
    EXPECT_EQ(JsonOf(r), json::parse(expected)) << "body: " << r.body;
    ExpectCommonHeaders(r);
}

// "The errors of the routes below are {"detail":string}": checks that, and returns the detail.
std::string ExpectDetail(const Response& r, int status) {
    EXPECT_EQ(r.status, status) << "body: " << r.body;
    EXPECT_TRUE(starts_with_ci(r.header("Content-Type").value_or(""), "application/json"))
        << "Content-Type: " << r.header("Content-Type").value_or("<none>");
    ExpectCommonHeaders(r);
    const json::value v = JsonOf(r);
    const json::value* detail = v.is_object() ? v.as_object().if_contains("detail") : nullptr;
    if (detail == nullptr || !detail->is_string() || v.as_object().size() != 1) {
        ADD_FAILURE() << "the body is not {\"detail\": string}: " << r.body;
        return {};
    }
    return Str(detail);
}

// The detail of a 400 names `name` (a parameter or a field).
void Expect400Naming(const Response& r, std::string_view name) {
    const std::string detail = ExpectDetail(r, 400);
    EXPECT_NE(detail.find(name), std::string::npos)
        << "the detail does not name " << name << ": " << detail;
}

/// RFC 3339 UTC with whole seconds, as the contract's example `2026-12-03T18:04:05Z`.
bool IsUtcTimestampNearNow(const std::string& text) {
    static const std::regex kRfc3339Utc(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$)");
    if (!std::regex_match(text, kRfc3339Utc)) {
        return false;
    }
    std::tm parts{};
    if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2dZ", &parts.tm_year, &parts.tm_mon,
                    &parts.tm_mday, &parts.tm_hour, &parts.tm_min, &parts.tm_sec) != 6) {
        return false;
    }
    parts.tm_year -= 1900;
    parts.tm_mon -= 1;
    const std::time_t when = ::timegm(&parts);
    return std::abs(std::difftime(when, std::time(nullptr))) <= 300.0;
}

/// Checks that `v` is a Todo, {"id":int,"title":string,"completed":bool,"created_at":string}
/// and nothing else, with that title and completed; returns its id (-1 if there is none).
std::int64_t ExpectTodo(const json::value& v, std::string_view title, bool completed) {
    if (!v.is_object()) {
        ADD_FAILURE() << "not a Todo: " << v;
        return -1;
    }
    const json::object& todo = v.as_object();
    std::set<std::string> keys;
    for (const auto& member : todo) {
        keys.emplace(member.key().data(), member.key().size());
    }
    EXPECT_EQ(keys, (std::set<std::string>{"id", "title", "completed", "created_at"})) << v;
    const json::value* title_value = todo.if_contains("title");
    EXPECT_TRUE(title_value != nullptr && title_value->is_string()) << v;
    EXPECT_EQ(Str(title_value), title) << v;
    const json::value* done = todo.if_contains("completed");
    EXPECT_TRUE(done != nullptr && done->is_bool() && done->as_bool() == completed) << v;
    const std::string created_at = Str(todo.if_contains("created_at"));
    EXPECT_TRUE(IsUtcTimestampNearNow(created_at))
        << "created_at is not RFC 3339 UTC (YYYY-MM-DDTHH:MM:SSZ) close to now: " << v;
    const json::value* id = todo.if_contains("id");
    if (id == nullptr || !id->is_int64() || id->as_int64() <= 0) {
        ADD_FAILURE() << "no positive integer id: " << v;
        return -1;
    }
    return id->as_int64();
}

/// POST /todos {"title": title[, "completed": completed]}: a test failure unless it answers 201
/// with that todo. Returns the todo (empty if there is none).
json::object Create(std::uint16_t port,
                    std::string_view title,
                    std::optional<bool> completed = std::nullopt) {
    const Response r = Post(port, TodoJson(title, completed));
    EXPECT_EQ(r.status, 201) << r.body;
    const json::value v = JsonOf(r);
    ExpectTodo(v, title, completed.value_or(false));
    return v.is_object() ? v.as_object() : json::object();
}

std::int64_t IdOf(const json::object& todo) {
    const json::value* id = todo.if_contains("id");
    return id != nullptr && id->is_int64() ? id->as_int64() : -1;
}

/// GET `target` of the list: a test failure unless it answers 200 with an array.
json::array List(std::uint16_t port, std::string_view target) {
    const Response r = Get(port, target);
    EXPECT_EQ(r.status, 200) << target << ": " << r.body;
    EXPECT_TRUE(starts_with_ci(r.header("Content-Type").value_or(""), "application/json"))
        << target << ": Content-Type " << r.header("Content-Type").value_or("<none>");
    const json::value v = JsonOf(r);
    EXPECT_TRUE(v.is_array()) << target << ": " << r.body;
    return v.is_array() ? v.as_array() : json::array();
}

std::vector<std::int64_t> Ids(const json::array& todos) {
    std::vector<std::int64_t> ids;
    for (const json::value& todo : todos) {
        ids.push_back(todo.is_object() ? IdOf(todo.as_object()) : -1);
    }
    return ids;
}

std::string ReadFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

/// A new empty folder under the test's temporary folder, removed with this object.
class TempFolder {
public:
    explicit TempFolder(std::string_view name)
        : dir_(fs::path(::testing::TempDir()) /
               ("todo-" + std::string(name) + "-" + std::to_string(::getpid()))) {
        std::error_code ignored;
        fs::remove_all(dir_, ignored);
        fs::create_directories(dir_);
    }
    ~TempFolder() {
        std::error_code ignored;
        fs::remove_all(dir_, ignored);
    }
    TempFolder(const TempFolder&) = delete;
    TempFolder& operator=(const TempFolder&) = delete;

    const fs::path& dir() const { return dir_; }
    std::string file(std::string_view name) const { return (dir_ / name).string(); }

private:
    fs::path dir_;
};

/// A `todo` process of the test's own (so an empty :memory: database), on two threads; stopped
/// with SIGTERM after the test, which must find it still running.
class TodoServer : public ::testing::Test {
protected:
    void SetUp() override {
        server_.emplace(SampleProcess::start(FLAMECPP_SAMPLE_TODO, {"--threads", "2"}));
    }

    void TearDown() override {
        if (!server_) {
            return;
        }
        if (!server_->running()) {
            ADD_FAILURE() << "the sample died during this test (exit code "
                          << server_->exit_code().value_or(-1) << ")";
            return;
        }
        EXPECT_EQ(server_->stop(SIGTERM), 0);
    }

    std::uint16_t port() const { return server_->port(); }

private:
    std::optional<SampleProcess> server_;
};

// ---------------------------------------------------------------------------------------------
// GET /openapi.json: the document's shape. (Its validity as OpenAPI 3.1 is todo.openapi's.)

class TodoOpenApi : public TodoServer {
protected:
    json::value Document() {
        const Response r = Get(port(), "/openapi.json");
        EXPECT_EQ(r.status, 200) << r.body;
        EXPECT_TRUE(starts_with_ci(r.header("Content-Type").value_or(""), "application/json"))
            << "Content-Type: " << r.header("Content-Type").value_or("<none>");
        ExpectCommonHeaders(r);
        return JsonOf(r);
    }
};

/// `v[key]` when `v` is an object that holds `key`; else nullptr.
const json::value* Member(const json::value* v, std::string_view key) {
    if (v == nullptr || !v->is_object()) {
        return nullptr;
    }
    return v->as_object().if_contains(key);
}

/// `v[k1][k2]...`, or nullptr where one is missing.
const json::value* At(const json::value& v, std::initializer_list<std::string_view> keys) {
    const json::value* at = &v;
    for (std::string_view key : keys) {
        at = Member(at, key);
    }
    return at;
}

/// `v` itself, or what its "$ref" (a local reference such as "#/components/schemas/Todo")
/// points to in `doc` (nullptr if nothing).
const json::value* Resolve(const json::value& doc, const json::value* v) {
    const json::value* ref = Member(v, "$ref");
    if (ref == nullptr) {
        return v;
    }
    const std::string pointer = Str(ref);
    if (!pointer.starts_with("#/")) {
        return nullptr;
    }
    const json::value* at = &doc;
    std::size_t start = 2;
    while (at != nullptr && start <= pointer.size()) {
        std::size_t end = pointer.find('/', start);
        if (end == std::string::npos) {
            end = pointer.size();
        }
        std::string token = pointer.substr(start, end - start);
        // RFC 6901: "~1" stands for '/', "~0" for '~'.
        for (std::size_t at_tilde = token.find("~1"); at_tilde != std::string::npos;
             at_tilde = token.find("~1", at_tilde + 1)) {
            token.replace(at_tilde, 2, "/");
        }
        for (std::size_t at_tilde = token.find("~0"); at_tilde != std::string::npos;
             at_tilde = token.find("~0", at_tilde + 1)) {
            token.replace(at_tilde, 2, "~");
        }
        at = Member(at, token);
        start = end + 1;
    }
    return at;
}

/// The schema, or its branch of anyOf/oneOf/allOf, whose "type" admits `type` (OpenAPI 3.1
/// may write an optional as "type": ["string", "null"] or as a branch {"type": "null"}).
const json::value* Typed(const json::value& doc, const json::value* schema, std::string_view type) {
    schema = Resolve(doc, schema);
    if (schema == nullptr || !schema->is_object()) {
        return nullptr;
    }
    if (const json::value* t = Member(schema, "type")) {
        if (Str(t) == type) {
            return schema;
        }
        if (t->is_array()) {
            for (const json::value& each : t->as_array()) {
                if (Str(&each) == type) {
                    return schema;
                }
            }
        }
    }
    for (const char* choice : {"anyOf", "oneOf", "allOf"}) {
        const json::value* branches = Member(schema, choice);
        if (branches == nullptr || !branches->is_array()) {
            continue;
        }
        for (const json::value& branch : branches->as_array()) {
            if (const json::value* found = Typed(doc, &branch, type)) {
                return found;
            }
        }
    }
    return nullptr;
}

/// Whether `v` is a JSON number equal to `expected` (1, 1.0 and 1E0 alike).
bool IsNumber(const json::value* v, double expected) {
    if (v == nullptr) {
        return false;
    }
    if (v->is_int64()) {
        return static_cast<double>(v->as_int64()) == expected;
    }
    if (v->is_uint64()) {
        return static_cast<double>(v->as_uint64()) == expected;
    }
    return v->is_double() && v->as_double() == expected;
}

/// Whether `v` is an array of strings holding `name`.
bool Lists(const json::value* v, std::string_view name) {
    if (v == nullptr || !v->is_array()) {
        return false;
    }
    return std::any_of(v->as_array().begin(), v->as_array().end(),
                       [&](const json::value& each) { return Str(&each) == name; });
}

/// The parameter `name` in `in` of operation `method` of path `path`: the operation's own, or
/// else its path item's; nullptr if neither has one.
const json::value* Parameter(const json::value& doc,
                             std::string_view path,
                             std::string_view method,
                             std::string_view in,
                             std::string_view name) {
    const json::value* item = At(doc, {"paths", path});
    for (const json::value* list :
         {Member(Member(item, method), "parameters"), Member(item, "parameters")}) {
        if (list == nullptr || !list->is_array()) {
            continue;
        }
        for (const json::value& each : list->as_array()) {
            const json::value* parameter = Resolve(doc, &each);
            if (Str(Member(parameter, "in")) == in && Str(Member(parameter, "name")) == name) {
                return parameter;
            }
        }
    }
    return nullptr;
}

/// The JSON schema of the answer `status` of operation `method` of `path`, or nullptr.
const json::value* AnswerSchema(const json::value& doc,
                                std::string_view path,
                                std::string_view method,
                                std::string_view status) {
    const json::value* answer = Resolve(doc, At(doc, {"paths", path, method, "responses", status}));
    return Member(Member(Member(answer, "content"), "application/json"), "schema");
}

/// `v` as JSON text, for failure messages.
std::string Show(const json::value* v) { return v == nullptr ? "<missing>" : json::serialize(*v); }

struct Operation {
    std::string_view path;
    std::string_view method;
};

// "Every route below with its method": the OpenAPI path of `{id:int}` is `{id}`.
constexpr Operation kOperations[] = {
    {"/todos", "get"},        {"/todos", "post"},        {"/todos/{id}", "get"},
    {"/todos/{id}", "patch"}, {"/todos/{id}", "delete"},
};

TEST_F(TodoOpenApi, DocumentIsOpenApi310WithTheSamplesInfo) {
    const json::value doc = Document();
    EXPECT_EQ(Str(Member(&doc, "openapi")), "3.1.0");
    EXPECT_EQ(Str(At(doc, {"info", "title"})), "todo");
    EXPECT_NE(Str(At(doc, {"info", "version"})), "") << "info.version is missing or empty";
}

TEST_F(TodoOpenApi, EveryRouteHasItsOperationWithIdSummaryAndTags) {
    const json::value doc = Document();
    std::set<std::string> operation_ids;
    for (const Operation& op : kOperations) {
        SCOPED_TRACE(std::string(op.method) + " " + std::string(op.path));
        const json::value* operation = At(doc, {"paths", op.path, op.method});
        ASSERT_TRUE(operation != nullptr && operation->is_object())
            << "no operation in paths: " << Show(Member(&doc, "paths"));
        const std::string id = Str(Member(operation, "operationId"));
        EXPECT_NE(id, "") << "no operationId";
        EXPECT_TRUE(operation_ids.insert(id).second) << "operationId " << id << " is not unique";
        EXPECT_NE(Str(Member(operation, "summary")), "") << "no summary";
        const json::value* tags = Member(operation, "tags");
        ASSERT_TRUE(tags != nullptr && tags->is_array() && !tags->as_array().empty()) << "no tags";
        for (const json::value& tag : tags->as_array()) {
            EXPECT_NE(Str(&tag), "") << "a tag that is not a non-empty string: " << tag;
        }
    }
}

TEST_F(TodoOpenApi, ListQueryParametersCarryTypeDefaultAndBounds) {
    const json::value doc = Document();
    const json::value* limit = Parameter(doc, "/todos", "get", "query", "limit");
    ASSERT_NE(limit, nullptr) << "no query parameter limit";
    EXPECT_TRUE(Member(limit, "required") != nullptr && Member(limit, "required")->is_bool() &&
                !Member(limit, "required")->as_bool())
        << *limit;
    const json::value* limit_schema = Typed(doc, Member(limit, "schema"), "integer");
    ASSERT_NE(limit_schema, nullptr) << "limit's schema is not an integer: " << *limit;
    EXPECT_TRUE(IsNumber(Member(limit_schema, "default"), 50)) << *limit_schema;
    EXPECT_TRUE(IsNumber(Member(limit_schema, "minimum"), 1)) << *limit_schema;
    EXPECT_TRUE(IsNumber(Member(limit_schema, "maximum"), 100)) << *limit_schema;

    const json::value* offset = Parameter(doc, "/todos", "get", "query", "offset");
    ASSERT_NE(offset, nullptr) << "no query parameter offset";
    EXPECT_TRUE(Member(offset, "required") != nullptr && Member(offset, "required")->is_bool() &&
                !Member(offset, "required")->as_bool())
        << *offset;
    const json::value* offset_schema = Typed(doc, Member(offset, "schema"), "integer");
    ASSERT_NE(offset_schema, nullptr) << "offset's schema is not an integer: " << *offset;
    EXPECT_TRUE(IsNumber(Member(offset_schema, "minimum"), 0)) << *offset_schema;
    if (const json::value* fallback = Member(offset_schema, "default")) {
        EXPECT_TRUE(IsNumber(fallback, 0)) << *offset_schema;
    }

    const json::value* completed = Parameter(doc, "/todos", "get", "query", "completed");
    ASSERT_NE(completed, nullptr) << "no query parameter completed";
    EXPECT_TRUE(Member(completed, "required") != nullptr &&
                Member(completed, "required")->is_bool() &&
                !Member(completed, "required")->as_bool())
        << *completed;
    EXPECT_NE(Typed(doc, Member(completed, "schema"), "boolean"), nullptr) << *completed;
}

TEST_F(TodoOpenApi, IdIsARequiredIntegerPathParameter) {
    const json::value doc = Document();
    for (std::string_view method : {"get", "patch", "delete"}) {
        SCOPED_TRACE(method);
        const json::value* id = Parameter(doc, "/todos/{id}", method, "path", "id");
        ASSERT_NE(id, nullptr) << "no path parameter id";
        const json::value* required = Member(id, "required");
        EXPECT_TRUE(required != nullptr && required->is_bool() && required->as_bool()) << *id;
        EXPECT_NE(Typed(doc, Member(id, "schema"), "integer"), nullptr) << *id;
    }
}

TEST_F(TodoOpenApi, BodiesAreRefsToSchemasWithTheirRequiredFieldsAndTitleRules) {
    const json::value doc = Document();
    // POST: title required, completed optional. PATCH: both optional.
    constexpr std::pair<std::string_view, bool> kBodies[] = {{"post", true}, {"patch", false}};
    for (const auto& [method, title_required] : kBodies) {
        SCOPED_TRACE(method);
        const std::string_view path = method == "post" ? "/todos" : "/todos/{id}";
        const json::value* body = Resolve(doc, At(doc, {"paths", path, method, "requestBody"}));
        ASSERT_NE(body, nullptr) << "no requestBody";
        const json::value* schema = At(*body, {"content", "application/json", "schema"});
        ASSERT_NE(schema, nullptr) << "no application/json schema: " << *body;
        const std::string ref = Str(Member(schema, "$ref"));
        EXPECT_TRUE(ref.starts_with("#/components/schemas/"))
            << "the body's schema is not a $ref into components/schemas: " << *schema;
        const json::value* object = Typed(doc, schema, "object");
        ASSERT_NE(object, nullptr) << ref << " is not an object schema";
        const json::value* required = Member(object, "required");
        EXPECT_EQ(Lists(required, "title"), title_required) << *object;
        EXPECT_FALSE(Lists(required, "completed")) << *object;

        const json::value* title = Typed(doc, At(*object, {"properties", "title"}), "string");
        ASSERT_NE(title, nullptr) << "no string property title: " << *object;
        EXPECT_TRUE(IsNumber(Member(title, "minLength"), 1)) << *title;
        EXPECT_TRUE(IsNumber(Member(title, "maxLength"), 200)) << *title;
        EXPECT_NE(Typed(doc, At(*object, {"properties", "completed"}), "boolean"), nullptr)
            << "no boolean property completed: " << *object;
    }
}

TEST_F(TodoOpenApi, AnswersNameTodoAnArrayOfTodoOrError) {
    struct Answer {
        Operation op;
        std::string_view status;
        std::string_view schema;  // "Todo", "Todo[]", "Error", or "" for no body
    };
    constexpr Answer kAnswers[] = {
        {{"/todos", "get"}, "200", "Todo[]"},        {{"/todos", "get"}, "400", "Error"},
        {{"/todos", "post"}, "201", "Todo"},         {{"/todos", "post"}, "400", "Error"},
        {{"/todos/{id}", "get"}, "200", "Todo"},     {{"/todos/{id}", "get"}, "404", "Error"},
        {{"/todos/{id}", "patch"}, "200", "Todo"},   {{"/todos/{id}", "patch"}, "400", "Error"},
        {{"/todos/{id}", "patch"}, "404", "Error"},  {{"/todos/{id}", "delete"}, "204", ""},
        {{"/todos/{id}", "delete"}, "404", "Error"},
    };
    const json::value doc = Document();
    for (const Answer& answer : kAnswers) {
        SCOPED_TRACE(std::string(answer.op.method) + " " + std::string(answer.op.path) + " " +
                     std::string(answer.status));
        const json::value* response = Resolve(
            doc, At(doc, {"paths", answer.op.path, answer.op.method, "responses", answer.status}));
        ASSERT_NE(response, nullptr) << "the answer is missing: "
                                     << Show(At(doc, {"paths", answer.op.path, answer.op.method}));
        const json::value* schema =
            AnswerSchema(doc, answer.op.path, answer.op.method, answer.status);
        if (answer.schema.empty()) {
            EXPECT_EQ(schema, nullptr) << "204 has no body: " << *response;
        } else if (answer.schema == "Todo[]") {
            const json::value* array = Typed(doc, schema, "array");
            ASSERT_NE(array, nullptr) << "not an array: " << *response;
            EXPECT_EQ(Str(At(*array, {"items", "$ref"})), "#/components/schemas/Todo") << *array;
        } else {
            ASSERT_NE(schema, nullptr) << "no application/json schema: " << *response;
            EXPECT_EQ(Str(Member(schema, "$ref")),
                      "#/components/schemas/" + std::string(answer.schema))
                << *schema;
        }
    }
}

TEST_F(TodoOpenApi, TodoAndErrorSchemasDescribeTheAnswers) {
    const json::value doc = Document();
    const json::value* todo = Typed(doc, At(doc, {"components", "schemas", "Todo"}), "object");
    ASSERT_NE(todo, nullptr) << "no object schema components/schemas/Todo";
    constexpr std::pair<std::string_view, std::string_view> kFields[] = {
        {"id", "integer"}, {"title", "string"}, {"completed", "boolean"}, {"created_at", "string"}};
    for (const auto& [field, type] : kFields) {
        EXPECT_NE(Typed(doc, At(*todo, {"properties", field}), type), nullptr)
            << field << " is not " << type << ": " << *todo;
        EXPECT_TRUE(Lists(Member(todo, "required"), field)) << field << ": " << *todo;
    }
    const json::value* error = Typed(doc, At(doc, {"components", "schemas", "Error"}), "object");
    ASSERT_NE(error, nullptr) << "no object schema components/schemas/Error";
    EXPECT_NE(Typed(doc, At(*error, {"properties", "detail"}), "string"), nullptr) << *error;
    EXPECT_TRUE(Lists(Member(error, "required"), "detail")) << *error;
}

TEST_F(TodoOpenApi, DocumentIsTheSameOnEveryRequest) {
    const Response first = Get(port(), "/openapi.json");
    Create(port(), "a todo does not change the document");
    const Response second = Get(port(), "/openapi.json");
    EXPECT_EQ(first.status, 200);
    EXPECT_EQ(first.body, second.body);
}

// ---------------------------------------------------------------------------------------------
// GET /docs and --docs-assets. (The page in a browser is todo.browser's.)

TEST_F(TodoServer, DocsPageIsHtmlForOpenApiJson) {
    const Response r = Get(port(), "/docs");
    EXPECT_EQ(r.status, 200);
    EXPECT_TRUE(starts_with_ci(r.header("Content-Type").value_or(""), "text/html"))
        << "Content-Type: " << r.header("Content-Type").value_or("<none>");
    ExpectCommonHeaders(r);
    EXPECT_NE(r.body.find("/openapi.json"), std::string::npos) << r.body;
    EXPECT_TRUE(contains_ci(r.body, "swagger-ui")) << r.body;
    // "Without it the docs page loads them from a public CDN."
    EXPECT_NE(r.body.find("https://"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("swagger-ui-bundle.js"), std::string::npos) << r.body;
    EXPECT_EQ(r.body.find("docs/assets/"), std::string::npos) << r.body;
}

TEST(TodoDocsAssets, PageLoadsSwaggerUiFromTheFolderServedUnderDocsAssets) {
    TempFolder folder("assets");
    const std::string css = "/* swagger-ui.css of the test */\n.swagger-ui { color: black; }\n";
    const std::string js = "/* swagger-ui-bundle.js of the test */\nwindow.SwaggerUIBundle = 1;\n";
    std::ofstream(folder.file("swagger-ui.css"), std::ios::binary) << css;
    std::ofstream(folder.file("swagger-ui-bundle.js"), std::ios::binary) << js;
    SampleProcess server = SampleProcess::start(
        FLAMECPP_SAMPLE_TODO, {"--threads", "2", "--docs-assets", folder.dir().string()});

    const Response page = Get(server.port(), "/docs");
    EXPECT_EQ(page.status, 200);
    EXPECT_NE(page.body.find("docs/assets/swagger-ui.css"), std::string::npos) << page.body;
    EXPECT_NE(page.body.find("docs/assets/swagger-ui-bundle.js"), std::string::npos) << page.body;
    EXPECT_NE(page.body.find("/openapi.json"), std::string::npos) << page.body;

    const Response style = Get(server.port(), "/docs/assets/swagger-ui.css");
    EXPECT_EQ(style.status, 200);
    EXPECT_EQ(style.body, css);
    EXPECT_TRUE(starts_with_ci(style.header("Content-Type").value_or(""), "text/css"))
        << style.header("Content-Type").value_or("<none>");
    ExpectCommonHeaders(style);
    const Response script = Get(server.port(), "/docs/assets/swagger-ui-bundle.js");
    EXPECT_EQ(script.status, 200);
    EXPECT_EQ(script.body, js);
    EXPECT_TRUE(contains_ci(script.header("Content-Type").value_or(""), "javascript"))
        << script.header("Content-Type").value_or("<none>");
    EXPECT_EQ(Get(server.port(), "/docs/assets/missing.js").status, 404);
    EXPECT_EQ(server.stop(SIGTERM), 0);
}

TEST(TodoCommandLine, AppFlagsAreInTheHelp) {
    const RunResult help = SampleProcess::run_to_exit(FLAMECPP_SAMPLE_TODO, {"--help"}, kExitWait);
    EXPECT_EQ(help.exit_code, 0);
    for (const char* flag : {"--db", "--docs-assets"}) {
        EXPECT_NE((help.stdout_text + help.stderr_text).find(flag), std::string::npos) << flag;
    }
}

// ---------------------------------------------------------------------------------------------
// The routes.

class TodoRoutes : public TodoServer {};

TEST_F(TodoRoutes, PostAnswers201WithTheNewTodoAndItsLocation) {
    const Response r = Post(port(), R"({"title":"buy milk"})");
    EXPECT_EQ(r.status, 201) << r.body;
    EXPECT_TRUE(starts_with_ci(r.header("Content-Type").value_or(""), "application/json"))
        << "Content-Type: " << r.header("Content-Type").value_or("<none>");
    ExpectCommonHeaders(r);
    const std::int64_t id = ExpectTodo(JsonOf(r), "buy milk", false);
    EXPECT_EQ(r.header("Location").value_or("<none>"), TodoPath(id));

    const Response done = Post(port(), R"({"title":"done already","completed":true})");
    EXPECT_EQ(done.status, 201) << done.body;
    const std::int64_t other = ExpectTodo(JsonOf(done), "done already", true);
    EXPECT_EQ(done.header("Location").value_or("<none>"), TodoPath(other));
    EXPECT_NE(id, other);
}

TEST_F(TodoRoutes, CreatedTodoReadsBackTheSame) {
    const Response created = Post(port(), R"({"title":"read me back","completed":false})");
    ASSERT_EQ(created.status, 201) << created.body;
    const json::value todo = JsonOf(created);
    ASSERT_TRUE(todo.is_object());
    const Response read = Get(port(), TodoPath(IdOf(todo.as_object())));
    ExpectJson(read, 200, created.body);
    json::array listed;
    listed.push_back(todo);
    EXPECT_EQ(List(port(), "/todos"), listed);
}

TEST_F(TodoRoutes, TitleIsKeptAsSentWhateverItHolds) {
    const std::string title = "quote \" backslash \\ tab \t caf\xC3\xA9 \xF0\x9F\x94\xA5 <b>&amp;";
    const json::object todo = Create(port(), title);
    const Response read = Get(port(), TodoPath(IdOf(todo)));
    EXPECT_EQ(read.status, 200);
    ExpectTodo(JsonOf(read), title, false);
}

TEST_F(TodoRoutes, TitleEmptyOrOver200CharactersIs400NamingTitle) {
    Expect400Naming(Post(port(), R"({"title":""})"), "title");
    Expect400Naming(Post(port(), TodoJson(std::string(201, 'a'))), "title");
    Expect400Naming(Post(port(), TodoJson(std::string(201, 'a'), true)), "title");
    ExpectJson(Get(port(), "/todos"), 200, "[]");
}

TEST_F(TodoRoutes, TitleOfOneOrExactly200CharactersIsAccepted) {
    Create(port(), "a");
    Create(port(), std::string(200, 'a'));
    EXPECT_EQ(List(port(), "/todos").size(), 2u);
}

TEST_F(TodoRoutes, TitleLengthCountsCharactersNotBytes) {
    const std::string e_acute = "\xC3\xA9";  // one character, two bytes
    Create(port(), Repeat(e_acute, 200));    // 400 bytes
    Expect400Naming(Post(port(), TodoJson(Repeat(e_acute, 201))), "title");
    EXPECT_EQ(List(port(), "/todos").size(), 1u);
}

TEST_F(TodoRoutes, BadJsonOrAMissingOrMistypedFieldIs400) {
    ExpectDetail(Post(port(), R"({"title": "x")"), 400);
    ExpectDetail(Post(port(), "not json at all"), 400);
    ExpectDetail(Post(port(), ""), 400);  // no body
    ExpectDetail(Post(port(), R"(["title"])"), 400);
    Expect400Naming(Post(port(), R"({"completed": true})"), "title");
    Expect400Naming(Post(port(), R"({"title": 5})"), "title");
    Expect400Naming(Post(port(), R"({"title": null})"), "title");
    Expect400Naming(Post(port(), R"({"title": "x", "completed": "yes"})"), "completed");
    Expect400Naming(Post(port(), R"({"title": "x", "completed": 1})"), "completed");
    ExpectJson(Get(port(), "/todos"), 200, "[]");
}

TEST_F(TodoRoutes, UnknownIdIs404WithTheContractsDetail) {
    const json::object kept = Create(port(), "kept");
    const std::int64_t unknown = IdOf(kept) + 1000;
    ExpectJson(Get(port(), TodoPath(unknown)), 404, NotFound(unknown));
    ExpectJson(Patch(port(), unknown, R"({"completed":true})"), 404, NotFound(unknown));
    ExpectJson(Delete(port(), unknown), 404, NotFound(unknown));
    ExpectJson(Get(port(), TodoPath(IdOf(kept))), 200, json::serialize(kept));
}

TEST_F(TodoRoutes, IdThatIsNotAnIntegerIs404) {
    for (const char* target : {"/todos/abc", "/todos/1x", "/todos/1/2"}) {
        EXPECT_EQ(Get(port(), target).status, 404) << target;
    }
}

TEST_F(TodoRoutes, UnknownPathIsPlainTextOrJsonNotFound) {
    const Response r = Get(port(), "/no/such/path");
    EXPECT_EQ(r.status, 404);
    const std::string type = lowercase(r.header("Content-Type").value_or(""));
    if (type.starts_with("application/json")) {
        ExpectJson(r, 404, R"({"detail":"Not Found"})");
    } else {
        EXPECT_TRUE(type.starts_with("text/plain")) << "Content-Type: " << type;
        EXPECT_NE(r.body.find("Not Found"), std::string::npos) << r.body;
    }
}

TEST_F(TodoRoutes, ListPagesFiftyByDefaultInOrderOfId) {
    std::vector<std::int64_t> ids;
    for (int i = 0; i < 60; ++i) {
        ids.push_back(IdOf(Create(port(), "todo " + std::to_string(i), i % 3 == 0)));
    }
    std::sort(ids.begin(), ids.end());
    const auto slice = [&](std::size_t from, std::size_t to) {
        return std::vector<std::int64_t>(ids.begin() + static_cast<std::ptrdiff_t>(from),
                                         ids.begin() + static_cast<std::ptrdiff_t>(to));
    };
    EXPECT_EQ(Ids(List(port(), "/todos")), slice(0, 50));
    EXPECT_EQ(Ids(List(port(), "/todos?limit=100")), slice(0, 60));
    EXPECT_EQ(Ids(List(port(), "/todos?limit=1")), slice(0, 1));
    EXPECT_EQ(Ids(List(port(), "/todos?offset=55")), slice(55, 60));
    EXPECT_EQ(Ids(List(port(), "/todos?limit=10&offset=20")), slice(20, 30));
    EXPECT_EQ(Ids(List(port(), "/todos?offset=0&limit=100")), slice(0, 60));
    EXPECT_EQ(Ids(List(port(), "/todos?offset=60")), slice(0, 0));
    EXPECT_EQ(Ids(List(port(), "/todos?offset=1000")), slice(0, 0));
    // Each entry is the todo as it was created.
    for (const json::value& todo : List(port(), "/todos?limit=3")) {
        const std::int64_t id = todo.is_object() ? IdOf(todo.as_object()) : -1;
        ExpectJson(Get(port(), TodoPath(id)), 200, json::serialize(todo));
    }
}

TEST_F(TodoRoutes, ListFiltersByCompleted) {
    std::vector<std::int64_t> done;
    std::vector<std::int64_t> open;
    for (int i = 0; i < 12; ++i) {
        const bool completed = i % 3 == 0;
        (completed ? done : open)
            .push_back(IdOf(Create(port(), "t" + std::to_string(i), completed)));
    }
    const json::array finished = List(port(), "/todos?completed=true");
    EXPECT_EQ(Ids(finished), done);
    for (const json::value& todo : finished) {
        EXPECT_EQ(todo.at("completed"), json::value(true)) << todo;
    }
    const json::array unfinished = List(port(), "/todos?completed=false");
    EXPECT_EQ(Ids(unfinished), open);
    for (const json::value& todo : unfinished) {
        EXPECT_EQ(todo.at("completed"), json::value(false)) << todo;
    }
    EXPECT_EQ(Ids(List(port(), "/todos?completed=true&limit=2&offset=1")),
              (std::vector<std::int64_t>{done[1], done[2]}));
    EXPECT_EQ(List(port(), "/todos").size(), 12u);
}

TEST_F(TodoRoutes, LimitOutside1To100Is400NamingLimit) {
    for (const char* target : {"/todos?limit=0", "/todos?limit=101", "/todos?limit=-1",
                               "/todos?limit=abc", "/todos?limit=1.5", "/todos?limit=1000000"}) {
        SCOPED_TRACE(target);
        Expect400Naming(Get(port(), target), "limit");
    }
    EXPECT_EQ(Get(port(), "/todos?limit=1").status, 200);
    EXPECT_EQ(Get(port(), "/todos?limit=100").status, 200);
}

TEST_F(TodoRoutes, NegativeOrNonNumericOffsetIs400NamingOffset) {
    for (const char* target : {"/todos?offset=-1", "/todos?offset=abc", "/todos?offset=2.5"}) {
        SCOPED_TRACE(target);
        Expect400Naming(Get(port(), target), "offset");
    }
    EXPECT_EQ(Get(port(), "/todos?offset=0").status, 200);
}

TEST_F(TodoRoutes, CompletedThatIsNotABooleanIs400NamingIt) {
    Expect400Naming(Get(port(), "/todos?completed=maybe"), "completed");
}

TEST_F(TodoRoutes, PatchWithOnlyCompletedKeepsTheTitle) {
    const json::object created = Create(port(), "write the tests");
    json::object expected = created;
    expected["completed"] = true;
    ExpectJson(Patch(port(), IdOf(created), R"({"completed":true})"), 200,
               json::serialize(expected));
    ExpectJson(Get(port(), TodoPath(IdOf(created))), 200, json::serialize(expected));
}

TEST_F(TodoRoutes, PatchWithOnlyTitleKeepsCompleted) {
    const json::object created = Create(port(), "old title", true);
    json::object expected = created;
    expected["title"] = "new title";
    ExpectJson(Patch(port(), IdOf(created), R"({"title":"new title"})"), 200,
               json::serialize(expected));
    ExpectJson(Get(port(), TodoPath(IdOf(created))), 200, json::serialize(expected));
}

TEST_F(TodoRoutes, PatchWithBothOrNeitherField) {
    const json::object created = Create(port(), "both");
    json::object expected = created;
    expected["title"] = "both changed";
    expected["completed"] = true;
    ExpectJson(Patch(port(), IdOf(created), R"({"title":"both changed","completed":true})"), 200,
               json::serialize(expected));
    // Every field is optional: {} changes nothing.
    ExpectJson(Patch(port(), IdOf(created), "{}"), 200, json::serialize(expected));
    ExpectJson(Get(port(), TodoPath(IdOf(created))), 200, json::serialize(expected));
}

TEST_F(TodoRoutes, PatchFollowsTheTitleRulesAndABadPatchChangesNothing) {
    const json::object created = Create(port(), "rules");
    const std::int64_t id = IdOf(created);
    Expect400Naming(Patch(port(), id, R"({"title":""})"), "title");
    Expect400Naming(Patch(port(), id, TodoJson(std::string(201, 'b'), true)), "title");
    Expect400Naming(Patch(port(), id, R"({"title":7})"), "title");
    Expect400Naming(Patch(port(), id, R"({"completed":"yes"})"), "completed");
    ExpectDetail(Patch(port(), id, R"({"title":)"), 400);
    ExpectDetail(Patch(port(), id, "[]"), 400);
    ExpectJson(Get(port(), TodoPath(id)), 200, json::serialize(created));

    const std::string long_title(200, 'b');
    json::object expected = created;
    expected["title"] = json::string_view(long_title.data(), long_title.size());
    ExpectJson(Patch(port(), id, TodoJson(long_title)), 200, json::serialize(expected));
}

TEST_F(TodoRoutes, DeleteIs204WithoutBodyThenTheTodoIsGone) {
    const json::object gone = Create(port(), "delete me");
    const json::object kept = Create(port(), "keep me");
    // The 204 and a GET after it on one connection: the 204 carries no body bytes.
    RawConnection c(port());
    c.send(make_request("DELETE", TodoPath(IdOf(gone)), {{"Content-Length", "0"}}) +
           make_request("GET", TodoPath(IdOf(gone))));
    const Response deleted = c.read_response(kIo);
    EXPECT_EQ(deleted.status, 204);
    EXPECT_EQ(deleted.body, "");
    ExpectCommonHeaders(deleted);  // 204: no Content-Length
    ExpectJson(c.read_response(kIo), 404, NotFound(IdOf(gone)));
    EXPECT_EQ(c.pending(), "");

    ExpectJson(Delete(port(), IdOf(gone)), 404, NotFound(IdOf(gone)));
    ExpectJson(Patch(port(), IdOf(gone), R"({"completed":true})"), 404, NotFound(IdOf(gone)));
    EXPECT_EQ(Ids(List(port(), "/todos")), std::vector<std::int64_t>{IdOf(kept)});
}

// ---------------------------------------------------------------------------------------------
// The database: a file that outlives the process, and one that cannot be opened.

TEST(TodoDatabase, TodosSurviveSigtermAndAStartOnTheSameFile) {
    TempFolder folder("restart");
    const std::string db = folder.file("todos.db");
    const std::vector<std::string> args = {"--threads", "2", "--db", db};
    json::value before;
    std::int64_t deleted = -1;
    {
        SampleProcess first = SampleProcess::start(FLAMECPP_SAMPLE_TODO, args);
        // "The schema is created by the startup hook before `listening on`": a new file is
        // ready for the first request.
        ExpectJson(Get(first.port(), "/todos"), 200, "[]");
        const json::object a = Create(first.port(), "survives");
        Create(first.port(), "survives too", true);
        deleted = IdOf(Create(first.port(), "deleted before the stop"));
        EXPECT_EQ(Patch(first.port(), IdOf(a), R"({"completed":true})").status, 200);
        EXPECT_EQ(Delete(first.port(), deleted).status, 204);
        before = json::value(List(first.port(), "/todos"));
        EXPECT_EQ(before.as_array().size(), 2u) << before;
        EXPECT_EQ(first.stop(SIGTERM), 0);
    }
    EXPECT_TRUE(fs::exists(db)) << db;

    SampleProcess second = SampleProcess::start(FLAMECPP_SAMPLE_TODO, args);
    EXPECT_EQ(json::value(List(second.port(), "/todos")), before);
    ExpectJson(Get(second.port(), TodoPath(deleted)), 404, NotFound(deleted));
    const std::int64_t added = IdOf(Create(second.port(), "after the restart"));
    const std::vector<std::int64_t> old = Ids(before.as_array());
    EXPECT_EQ(std::count(old.begin(), old.end(), added), 0) << "an id given twice: " << added;
    EXPECT_EQ(List(second.port(), "/todos").size(), 3u);
    EXPECT_EQ(second.stop(SIGTERM), 0);
}

// "A startup failure that is not a flag error (... a database ... that cannot be opened ...)
// prints a one-line error naming the cause on stderr and exits 1, without printing
// `listening on`."
void ExpectDbRefused(const std::string& db) {
    SCOPED_TRACE("--db " + db);
    const RunResult r =
        SampleProcess::run_to_exit(FLAMECPP_SAMPLE_TODO, {"--port", "0", "--db", db}, kExitWait);
    EXPECT_EQ(r.exit_code, 1) << r.stderr_text;
    EXPECT_EQ(r.stdout_text.find("listening on"), std::string::npos) << r.stdout_text;
    EXPECT_EQ(std::count(r.stderr_text.begin(), r.stderr_text.end(), '\n'), 1) << r.stderr_text;
    EXPECT_NE(r.stderr_text.find(db), std::string::npos)
        << "the error does not name the file: " << r.stderr_text;
}

TEST(TodoDatabase, ADbThatCannotBeOpenedIsOneLineAndExit1) {
    ExpectDbRefused("/nonexistent/dir/x.db");
    TempFolder folder("unopenable");
    ExpectDbRefused(folder.dir().string());  // a folder
    const std::string garbage = folder.file("not-sqlite.db");
    std::ofstream(garbage, std::ios::binary) << std::string(4096, 'x');
    ExpectDbRefused(garbage);
}

// ---------------------------------------------------------------------------------------------
// "200 clients creating and reading todos at once with --threads 2: every id unique, every
// created todo readable afterwards, no 500 and no `database is locked`."

struct ClientOutcome {
    int created_status = 0;
    std::string created_body;
    std::int64_t id = -1;
    int read_status = 0;
    std::string read_body;
    std::string error;
};

constexpr int kClients = 200;
constexpr std::chrono::seconds kLoaded{30};  // one answer with 200 clients waiting

/// Whether `a` and `b` are the same JSON value (false if either is not JSON).
bool SameJson(std::string_view a, std::string_view b) {
    boost::system::error_code a_error;
    boost::system::error_code b_error;
    const json::value a_value = json::parse(a, a_error);
    const json::value b_value = json::parse(b, b_error);
    return !a_error && !b_error && a_value == b_value;
}

/// Client `i`: its own connection, made before the start; then POST and a GET of what it made.
void RunClient(std::uint16_t port, int i, std::latch& start, ClientOutcome& outcome) {
    std::optional<RawConnection> c;
    try {
        c.emplace(port, 10s);
    } catch (const std::exception& e) {
        outcome.error = std::string("connect: ") + e.what();
    }
    start.arrive_and_wait();
    if (!c) {
        return;
    }
    try {
        c->send(make_request("POST", "/todos", kJsonType, TodoJson("client " + std::to_string(i))),
                kLoaded);
        const Response created = c->read_response(kLoaded);
        outcome.created_status = created.status;
        outcome.created_body = created.body;
        boost::system::error_code ec;
        const json::value v = json::parse(created.body, ec);
        if (ec || !v.is_object()) {
            return;
        }
        outcome.id = IdOf(v.as_object());
        c->send(make_request("GET", TodoPath(outcome.id)), kLoaded);
        const Response read = c->read_response(kLoaded);
        outcome.read_status = read.status;
        outcome.read_body = read.body;
    } catch (const std::exception& e) {
        outcome.error = e.what();
    }
}

void ExpectConcurrentClientsServed(const std::vector<std::string>& db_args, std::string_view name) {
    const std::string log = ::testing::TempDir() + "todo_" + std::string(name) + "_" +
                            std::to_string(::getpid()) + ".log";
    SpawnOptions options;
    options.stderr_path = log;
    std::vector<std::string> args = {"--threads", "2"};
    args.insert(args.end(), db_args.begin(), db_args.end());
    SampleProcess server = SampleProcess::start(FLAMECPP_SAMPLE_TODO, args, options);

    std::vector<ClientOutcome> outcomes(kClients);
    {
        std::latch start(kClients);
        std::vector<std::jthread> clients;
        clients.reserve(kClients);
        for (int i = 0; i < kClients; ++i) {
            clients.emplace_back(RunClient, server.port(), i, std::ref(start),
                                 std::ref(outcomes[static_cast<std::size_t>(i)]));
        }
    }

    std::vector<std::string> problems;
    std::set<std::int64_t> ids;
    int errors_500 = 0;
    for (int i = 0; i < kClients; ++i) {
        const ClientOutcome& o = outcomes[static_cast<std::size_t>(i)];
        const std::string who = "client " + std::to_string(i) + ": ";
        errors_500 += (o.created_status == 500) + (o.read_status == 500);
        if (!o.error.empty()) {
            problems.push_back(who + o.error);
        } else if (o.created_status != 201) {
            problems.push_back(who + "POST answered " + std::to_string(o.created_status) + " " +
                               o.created_body);
        } else if (o.id <= 0 || !ids.insert(o.id).second) {
            problems.push_back(who + "no id, or one given before: " + o.created_body);
        } else if (o.read_status != 200 || !SameJson(o.read_body, o.created_body)) {
            problems.push_back(who + "GET answered " + std::to_string(o.read_status) + " " +
                               o.read_body + " for " + o.created_body);
        }
    }
    EXPECT_EQ(errors_500, 0);
    std::string some;
    for (std::size_t i = 0; i < problems.size() && i < 5; ++i) {
        some += "\n  " + problems[i];
    }
    EXPECT_TRUE(problems.empty()) << problems.size() << " clients failed, e.g." << some;
    EXPECT_EQ(ids.size(), static_cast<std::size_t>(kClients));

    // Afterwards: every created todo is listed, and readable by id.
    std::set<std::int64_t> listed;
    for (int offset = 0; offset <= kClients; offset += 100) {
        for (std::int64_t id :
             Ids(List(server.port(), "/todos?limit=100&offset=" + std::to_string(offset)))) {
            listed.insert(id);
        }
    }
    EXPECT_EQ(listed, ids);
    RawConnection c(server.port());
    for (std::int64_t id : ids) {
        c.send(make_request("GET", TodoPath(id)));
        const Response r = c.read_response(kIo);
        if (r.status != 200) {
            ADD_FAILURE() << "GET " << TodoPath(id) << " afterwards: " << r.status << " " << r.body;
            break;
        }
    }

    EXPECT_TRUE(server.running());
    EXPECT_EQ(server.stop(SIGTERM), 0);
    const std::string logged = ReadFile(log);
    EXPECT_FALSE(contains_ci(logged, "database is locked")) << logged;
    std::error_code ignored;
    fs::remove(log, ignored);
}

TEST(TodoConcurrency, TwoHundredClientsOnADatabaseFileWithTwoThreads) {
    TempFolder folder("concurrency");
    ExpectConcurrentClientsServed({"--db", folder.file("todos.db")}, "file");
}

TEST(TodoConcurrency, TwoHundredClientsInMemoryWithTwoThreads) {
    // :memory: is one database for the process, whichever thread serves a client.
    ExpectConcurrentClientsServed({}, "memory");
}

}  // namespace
}  // namespace flamecpp::test
