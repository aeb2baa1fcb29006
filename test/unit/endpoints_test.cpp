#include <gtest/gtest.h>

#include <flamecpp/app.hpp>
#include <flamecpp/endpoints.hpp>
#include <flamecpp/json.hpp>

#include "http/request_builder.hpp"
#include "run.hpp"

namespace flamecpp {
namespace {

using detail::CallContext;

/// Calls a route handler the way the session does: sync first, then async.
Response call(detail::RouteHandler& handler, Request& request) {
    CallContext ctx(request);
    Response out;
    if (!handler.call_sync(ctx, out)) {
        test::run(handler.call_async(ctx, out));
    }
    return out;
}

Request make_request(Method m, std::vector<PathParam> params = {}) {
    Request r;
    detail::RequestBuilder b(r);
    b.set_start(m, to_string(m), "/x", 11);
    b.path_params() = std::move(params);
    return r;
}

struct Mixed : HTTPEndpoint {
    Response get() { return Response::text("sync get"); }
    Task<Response> post() { co_return Response::text("async post"); }
    std::string delete_(Request& r) { return std::string(r.method_name()); }
};

TEST(HTTPEndpoint, MethodsAreKnownAtCompileTime) {
    constexpr MethodSet methods = detail::endpoint_methods<Mixed>();
    static_assert(methods.contains(Method::get) && methods.contains(Method::head));
    static_assert(methods.contains(Method::post) && methods.contains(Method::delete_));
    static_assert(!methods.contains(Method::put) && !methods.contains(Method::options));
    EXPECT_EQ(methods.allow_header(), "GET, HEAD, POST, DELETE");
}

TEST(HTTPEndpoint, DispatchesOnVerbSyncAndAsync) {
    auto handler = detail::endpoint_handler(detail::endpoint_table<Mixed>);
    auto get = make_request(Method::get);
    EXPECT_EQ(call(*handler, get).body(), "sync get");
    auto post = make_request(Method::post);
    EXPECT_EQ(call(*handler, post).body(), "async post");
    auto del = make_request(Method::delete_);
    EXPECT_EQ(call(*handler, del).body(), "DELETE");
}

TEST(HTTPEndpoint, HeadFallsBackToGet) {
    auto handler = detail::endpoint_handler(detail::endpoint_table<Mixed>);
    auto head = make_request(Method::head);
    EXPECT_EQ(call(*handler, head).body(), "sync get");
}

struct WithHead : HTTPEndpoint {
    Response get() { return Response::text("get"); }
    Response head() { return Response::text("head"); }
};

TEST(HTTPEndpoint, OwnHeadWins) {
    auto handler = detail::endpoint_handler(detail::endpoint_table<WithHead>);
    auto head = make_request(Method::head);
    EXPECT_EQ(call(*handler, head).body(), "head");
}

struct SeesRequest : HTTPEndpoint {
    std::string get() { return std::string(request().target()); }
};

TEST(HTTPEndpoint, InstanceSeesItsRequest) {
    auto handler = detail::endpoint_handler(detail::endpoint_table<SeesRequest>);
    auto r = make_request(Method::get);
    EXPECT_EQ(call(*handler, r).body(), "/x");
}

struct Typed : HTTPEndpoint {
    boost::json::value get(Path<"id", int> id, Path<"name"> name) {
        return {{"id", *id}, {"name", *name}};
    }
};

TEST(HTTPEndpoint, TypedPathParametersAndJsonResult) {
    auto handler = detail::endpoint_handler(detail::endpoint_table<Typed>);
    auto r = make_request(Method::get, {{"id", "42"}, {"name", "bob"}});
    auto res = call(*handler, r);
    EXPECT_EQ(res.body(), R"({"id":42,"name":"bob"})");
    EXPECT_EQ(res.content_type(), "application/json");
    const auto& needs = detail::EndpointRequirements<Typed>::Joined::value;
    ASSERT_EQ(needs.size(), 2u);
    EXPECT_EQ(needs[0].kind, detail::Requirement::Kind::path);
    EXPECT_EQ(needs[0].path.name, "id");
    EXPECT_TRUE(needs[0].path.accepts_int);
    EXPECT_FALSE(needs[0].path.accepts_text);
    EXPECT_EQ(needs[1].path.name, "name");
}

TEST(HTTPEndpoint, OutOfRangeIntIsNotFound) {
    auto handler = detail::endpoint_handler(detail::endpoint_table<Typed>);
    auto r = make_request(Method::get, {{"id", "99999999999999999999"}, {"name", "x"}});
    try {
        call(*handler, r);
        FAIL() << "expected HTTPException";
    } catch (const HTTPException& e) {
        EXPECT_EQ(e.status(), Status::not_found);
    }
}

Response plain(Request& r) { return Response::text(std::string(r.method_name())); }
Task<std::string> coro(Path<"x"> x) { co_return "coro " + *x; }

TEST(FunctionView, PlainAndCoroutineFunctions) {
    detail::FunctionHandler<decltype(&plain)> p(&plain);
    auto r = make_request(Method::get);
    EXPECT_EQ(call(p, r).body(), "GET");
    detail::FunctionHandler<decltype(&coro)> c(&coro);
    auto r2 = make_request(Method::get, {{"x", "y"}});
    EXPECT_EQ(call(c, r2).body(), "coro y");
}

TEST(FunctionView, LambdasWork) {
    auto lambda = [n = 5](Request&) { return Response::text(std::to_string(n)); };
    detail::FunctionHandler<decltype(lambda)> h(lambda);
    auto r = make_request(Method::get);
    EXPECT_EQ(call(h, r).body(), "5");
}

TEST(App, RouteChecksRequirementsAgainstTemplate) {
    App app;
    EXPECT_THROW(app.route("/items/{item}", coro), std::invalid_argument);
    app.route("/items/{x}", coro);
    EXPECT_THROW(app.route<Typed>("/t/{id}/{name}"), std::invalid_argument);  // id is str
    app.route<Typed>("/t/{id:int}/{name}");
}

}  // namespace
}  // namespace flamecpp
