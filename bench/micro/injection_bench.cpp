// The injector's cost per call: a handler with five injected parameters, called through the
// route thunk, against the same handler called directly with the same arguments produced by
// hand (the work any framework must do). The difference is what the injector adds.
//   build/release/bench/injection_bench
#include <atomic>
#include <charconv>
#include <memory>
#include <string>

#include <benchmark/benchmark.h>

#include <flamecpp/app.hpp>

#include "app/app_impl.hpp"
#include "http/request_builder.hpp"

namespace {

using namespace flamecpp;

struct Counter : Component {
    std::atomic<int> hits{0};
};

Response handler(
    Request& request, Path<"id", int> id, Query<"q"> q, Header<"X-Token"> token, Counter& counter) {
    ++counter.hits;
    benchmark::DoNotOptimize(request.method());
    benchmark::DoNotOptimize(*id);
    benchmark::DoNotOptimize(q->size() + token->size());
    return Response::empty();
}

struct Fixture {
    std::string storage;
    Request request;
    App app;
    std::unique_ptr<detail::ComponentScope> scope;

    Fixture() {
        storage.reserve(512);
        auto keep = [this](std::string_view v) {
            auto at = storage.size();
            storage.append(v);
            return std::string_view(storage).substr(at, v.size());
        };
        detail::RequestBuilder b(request);
        b.set_start(Method::get, keep("GET"), keep("/items/42?q=shoes&page=2"), 11);
        b.add_header(keep("Host"), keep("example.com"));
        b.add_header(keep("X-Token"), keep("secret"));
        b.path_params().push_back(PathParam{"id", keep("42")});
        app.component(std::make_shared<Counter>());
        scope = std::make_unique<detail::ComponentScope>(app.impl().components);
    }
};

void Injected(benchmark::State& state) {
    Fixture f;
    detail::FunctionHandler<decltype(&handler)> thunk(&handler);
    detail::RouteHandler& route = thunk;  // through the virtual call, as the server does
    for (auto _ : state) {
        detail::CallContext ctx(f.request);
        ctx.components = f.scope.get();
        Response out;
        route.call_sync(ctx, out);
        benchmark::DoNotOptimize(out);
    }
}
BENCHMARK(Injected);

void Direct(benchmark::State& state) {
    Fixture f;
    auto* counter = static_cast<Counter*>(f.scope->get(detail::component_id<Counter>()));
    for (auto _ : state) {
        // The same arguments, produced by hand.
        auto id_text = *f.request.path_param("id");
        int id = 0;
        std::from_chars(id_text.data(), id_text.data() + id_text.size(), id);
        std::string q = f.request.query("q").value_or("");
        std::string token(f.request.header("X-Token").value_or(""));
        Response out = handler(f.request, Path<"id", int>{id}, Query<"q">{std::move(q)},
                               Header<"X-Token">{std::move(token)}, *counter);
        benchmark::DoNotOptimize(out);
    }
}
BENCHMARK(Direct);

Response bare() { return Response::empty(); }

/// The same comparison with no parameters: what the thunk itself costs per call.
void InjectedNoParameters(benchmark::State& state) {
    Fixture f;
    detail::FunctionHandler<decltype(&bare)> thunk(&bare);
    detail::RouteHandler& route = thunk;
    for (auto _ : state) {
        detail::CallContext ctx(f.request);
        Response out;
        route.call_sync(ctx, out);
        benchmark::DoNotOptimize(out);
    }
}
BENCHMARK(InjectedNoParameters);

void DirectNoParameters(benchmark::State& state) {
    for (auto _ : state) {
        Response out = bare();
        benchmark::DoNotOptimize(out);
    }
}
BENCHMARK(DirectNoParameters);

}  // namespace

BENCHMARK_MAIN();
