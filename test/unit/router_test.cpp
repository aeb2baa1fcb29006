#include "routing/router.hpp"

#include <stdexcept>

#include <gtest/gtest.h>

namespace flamecpp::detail {
namespace {

class NullHandler final : public RouteHandler {
public:
    bool call_sync(CallContext&, Response&) override { return true; }
    Task<void> call_async(CallContext&, Response&) override { co_return; }
};

class NullSocket final : public WebSocketHandler {
public:
    Task<void> run(CallContext&, std::string_view) override { co_return; }
};

struct RouterFixture : ::testing::Test {
    Router router;
    MatchScratch scratch;
    std::vector<PathParam> params;

    void add(std::string_view pattern,
             MethodSet methods = {Method::get},
             std::vector<PathRequirement> needs = {}) {
        std::vector<Requirement> requirements;
        for (const auto& need : needs) {
            requirements.push_back(Requirement{Requirement::Kind::path, need});
        }
        router.add(pattern, methods, std::make_unique<NullHandler>(), requirements);
    }
    MatchResult match(std::string_view path, Method m = Method::get) {
        return router.match(m, path, scratch, params);
    }
    std::string param(std::string_view name) {
        for (auto& p : params) {
            if (p.name == name)
                return std::string(p.value);
        }
        return "<none>";
    }
};

TEST(Convertor, IntAcceptsDigitsOnly) {
    EXPECT_TRUE(convertor_accepts(Convertor::int_, "42"));
    EXPECT_FALSE(convertor_accepts(Convertor::int_, "abc"));
    EXPECT_FALSE(convertor_accepts(Convertor::int_, "-1"));
    EXPECT_FALSE(convertor_accepts(Convertor::int_, ""));
}

TEST(Convertor, FloatAcceptsDecimals) {
    EXPECT_TRUE(convertor_accepts(Convertor::float_, "1.5"));
    EXPECT_TRUE(convertor_accepts(Convertor::float_, "3"));
    EXPECT_FALSE(convertor_accepts(Convertor::float_, "1."));
    EXPECT_FALSE(convertor_accepts(Convertor::float_, ".5"));
    EXPECT_FALSE(convertor_accepts(Convertor::float_, "1e5"));
}

TEST(Convertor, UuidNeedsCanonicalForm) {
    EXPECT_TRUE(convertor_accepts(Convertor::uuid, "123e4567-e89b-12d3-a456-426614174000"));
    EXPECT_TRUE(convertor_accepts(Convertor::uuid, "123E4567-E89B-12D3-A456-426614174000"));
    EXPECT_FALSE(convertor_accepts(Convertor::uuid, "123e4567e89b12d3a456426614174000"));
    EXPECT_FALSE(convertor_accepts(Convertor::uuid, "123e4567-e89b-12d3-a456-42661417400g"));
}

TEST(Convertor, StrRejectsEmpty) {
    EXPECT_FALSE(convertor_accepts(Convertor::str, ""));
    EXPECT_TRUE(convertor_accepts(Convertor::str, "x"));
}

TEST_F(RouterFixture, MatchesRootAndLiterals) {
    add("/");
    add("/foo/");
    EXPECT_EQ(match("/").status, MatchStatus::found);
    EXPECT_EQ(match("/foo/").status, MatchStatus::found);
    EXPECT_EQ(match("/foo").status, MatchStatus::not_found);
    EXPECT_EQ(match("/bar/").status, MatchStatus::not_found);
}

TEST_F(RouterFixture, StrParameterIsOneSegment) {
    add("/{username}");
    EXPECT_EQ(match("/bob").status, MatchStatus::found);
    EXPECT_EQ(param("username"), "bob");
    EXPECT_EQ(match("/a/b").status, MatchStatus::not_found);
    EXPECT_EQ(match("/").status, MatchStatus::not_found);
}

TEST_F(RouterFixture, SplitsBeforeDecodingSoEncodedSlashStaysInSegment) {
    add("/units/{unit}");
    ASSERT_EQ(match("/units/kg%2Fs").status, MatchStatus::found);
    EXPECT_EQ(param("unit"), "kg/s");
}

TEST_F(RouterFixture, DecodesUtf8Segments) {
    add("/{username}");
    ASSERT_EQ(match("/caf%C3%A9").status, MatchStatus::found);
    EXPECT_EQ(param("username"), "caf\xC3\xA9");
}

TEST_F(RouterFixture, LiteralsCompareDecoded) {
    add("/caf\xC3\xA9");
    EXPECT_EQ(match("/caf%C3%A9").status, MatchStatus::found);
}

TEST_F(RouterFixture, InvalidEscapeIsBadPath) {
    add("/{x}");
    EXPECT_EQ(match("/a%zz").status, MatchStatus::bad_path);
    EXPECT_EQ(match("/a%4").status, MatchStatus::bad_path);
}

TEST_F(RouterFixture, IntConvertorRejectsLetters) {
    add("/users/{user_id:int}");
    EXPECT_EQ(match("/users/42").status, MatchStatus::found);
    EXPECT_EQ(param("user_id"), "42");
    EXPECT_EQ(match("/users/abc").status, MatchStatus::not_found);
}

TEST_F(RouterFixture, PathConvertorSpansSlashes) {
    add("/files/{rest:path}");
    ASSERT_EQ(match("/files/a/b/c.txt").status, MatchStatus::found);
    EXPECT_EQ(param("rest"), "a/b/c.txt");
    ASSERT_EQ(match("/files/").status, MatchStatus::found);
    EXPECT_EQ(param("rest"), "");
    EXPECT_EQ(match("/files").status, MatchStatus::not_found);
    ASSERT_EQ(match("/files/a%20b/c").status, MatchStatus::found);
    EXPECT_EQ(param("rest"), "a b/c");
}

TEST_F(RouterFixture, MethodMismatchGives405WithUnionOfMethods) {
    add("/items", {Method::get});
    add("/items", {Method::post});
    auto r = match("/items", Method::delete_);
    EXPECT_EQ(r.status, MatchStatus::method_not_allowed);
    EXPECT_EQ(r.allow.allow_header(), "GET, HEAD, POST");
    EXPECT_EQ(match("/items", Method::post).status, MatchStatus::found);
}

TEST_F(RouterFixture, GetImpliesHead) {
    add("/", {Method::get});
    EXPECT_EQ(match("/", Method::head).status, MatchStatus::found);
}

TEST_F(RouterFixture, FirstMatchingRouteWins) {
    add("/users/me");
    add("/users/{name}");
    ASSERT_EQ(match("/users/me").status, MatchStatus::found);
    EXPECT_EQ(match("/users/me").route->pattern, "/users/me");
    EXPECT_EQ(match("/users/bob").route->pattern, "/users/{name}");
}

// Literal routes are found by a table lookup; it must give what the scan in order gives.
TEST_F(RouterFixture, ALiteralRouteAfterAParameterRouteForItsPathIsLeftToTheScan) {
    add("/{name}", {Method::get});
    add("/x", {Method::post});
    EXPECT_EQ(match("/x").route->pattern, "/{name}");
    EXPECT_EQ(match("/x", Method::post).route->pattern, "/x");
    auto r = match("/x", Method::delete_);
    EXPECT_EQ(r.status, MatchStatus::method_not_allowed);
    EXPECT_EQ(r.allow.allow_header(), "GET, HEAD, POST");
}

TEST_F(RouterFixture, TheFirstOfTwoLiteralRoutesForOnePathIsFoundAndTheSecondByTheScan) {
    add("/a", {Method::get});
    add("/a", {Method::post});
    add("/{other}", {Method::put});
    EXPECT_EQ(match("/a").route, router.routes()[0].get());
    EXPECT_EQ(match("/a", Method::post).route, router.routes()[1].get());
    EXPECT_EQ(match("/a", Method::put).route->pattern, "/{other}");
    EXPECT_EQ(match("/a", Method::patch).allow.allow_header(), "GET, HEAD, POST, PUT");
}

TEST_F(RouterFixture, ManyLiteralRoutesAreEachFound) {
    for (int i = 0; i < 100; ++i) {
        add("/r" + std::to_string(i) + (i % 3 == 0 ? "/deeper/path" : ""));
    }
    add("/");
    add("/items/");  // the trailing slash is part of the path
    for (int i = 0; i < 100; ++i) {
        const std::string path = "/r" + std::to_string(i) + (i % 3 == 0 ? "/deeper/path" : "");
        const MatchResult r = match(path);
        ASSERT_EQ(r.status, MatchStatus::found) << path;
        EXPECT_EQ(r.route->pattern, path);
        EXPECT_TRUE(params.empty());
    }
    EXPECT_EQ(match("/").route->pattern, "/");
    EXPECT_EQ(match("/items/").route->pattern, "/items/");
    EXPECT_EQ(match("/items").status, MatchStatus::not_found);
    EXPECT_EQ(match("/r1/deeper/path").status, MatchStatus::not_found);
    EXPECT_EQ(match("/r100").status, MatchStatus::not_found);
}

TEST_F(RouterFixture, ALiteralPathOfTheOtherKindIsNotFoundByTheTable) {
    router.add_websocket("/ws", std::make_unique<NullSocket>(), {});
    add("/plain");
    const MatchResult r = match("/ws");
    EXPECT_EQ(r.status, MatchStatus::not_found);
    EXPECT_TRUE(r.other_kind);
    EXPECT_EQ(router.match(Method::get, "/ws", scratch, params, RouteKind::websocket).status,
              MatchStatus::found);
    EXPECT_EQ(router.match(Method::get, "/plain", scratch, params, RouteKind::websocket).status,
              MatchStatus::not_found);
}

TEST_F(RouterFixture, ParamsLeftByAnEarlierMatchAreClearedByALiteralOne) {
    add("/users/{name}");
    add("/about");
    ASSERT_EQ(match("/users/bob").status, MatchStatus::found);
    ASSERT_EQ(params.size(), 1U);
    ASSERT_EQ(match("/about").status, MatchStatus::found);
    EXPECT_TRUE(params.empty());
}

TEST_F(RouterFixture, RejectsBadTemplates) {
    EXPECT_THROW(add("users"), std::invalid_argument);
    EXPECT_THROW(add("/{id:number}"), std::invalid_argument);
    EXPECT_THROW(add("/{id"), std::invalid_argument);
    EXPECT_THROW(add("/x{id}"), std::invalid_argument);
    EXPECT_THROW(add("/{1id}"), std::invalid_argument);
    EXPECT_THROW(add("/{rest:path}/more"), std::invalid_argument);
    EXPECT_THROW(add("/a?b"), std::invalid_argument);
}

TEST_F(RouterFixture, RejectsDuplicateParameterName) {
    try {
        add("/{id}/{id}");
        FAIL() << "expected a throw";
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("'/{id}/{id}'"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("appears twice"), std::string::npos) << e.what();
    }
}

TEST_F(RouterFixture, RejectsRouteShadowedByEarlierOne) {
    add("/users/{name}");
    try {
        add("/users/me");
        FAIL() << "expected a throw";
    } catch (const std::invalid_argument& e) {
        std::string what = e.what();
        EXPECT_NE(what.find("'/users/me'"), std::string::npos) << what;
        EXPECT_NE(what.find("'/users/{name}'"), std::string::npos) << what;
    }
    EXPECT_THROW(add("/users/{id:int}"), std::invalid_argument);
    add("/users/{name}", {Method::post});  // other methods: not shadowed
    add("/users/{a}/{b}");                 // longer: not shadowed
}

TEST_F(RouterFixture, PathConvertorShadowsEverythingBelow) {
    add("/static/{rest:path}");
    EXPECT_THROW(add("/static/css/site.css"), std::invalid_argument);
    add("/static");  // shorter: "/static" is not under "/static/"
}

TEST_F(RouterFixture, IntRouteDoesNotShadowStrRoute) {
    add("/users/{id:int}");
    add("/users/{name}");
    EXPECT_EQ(match("/users/7").route->pattern, "/users/{id:int}");
    EXPECT_EQ(match("/users/bob").route->pattern, "/users/{name}");
}

TEST_F(RouterFixture, RequirementMustNameATemplateParameter) {
    PathRequirement need{"id", true, false, false, "an integer"};
    try {
        add("/users/{user_id:int}", {Method::get}, {need});
        FAIL() << "expected a throw";
    } catch (const std::invalid_argument& e) {
        std::string what = e.what();
        EXPECT_NE(what.find("Path<\"id\">"), std::string::npos) << what;
        EXPECT_NE(what.find("user_id"), std::string::npos) << what;
    }
}

TEST_F(RouterFixture, RequirementTypeMustFitConvertor) {
    PathRequirement wants_int{"name", true, false, false, "an integer"};
    EXPECT_THROW(add("/u/{name}", {Method::get}, {wants_int}), std::invalid_argument);
    add("/v/{name:int}", {Method::get}, {wants_int});
    PathRequirement wants_text{"name", true, true, true, "a string"};
    add("/w/{name:int}", {Method::get}, {wants_text});
}

TEST(MethodSet, AllowHeaderHasFixedOrder) {
    MethodSet set{Method::delete_, Method::post, Method::get, Method::head, Method::options};
    EXPECT_EQ(set.allow_header(), "GET, HEAD, POST, DELETE, OPTIONS");
}

}  // namespace
}  // namespace flamecpp::detail
