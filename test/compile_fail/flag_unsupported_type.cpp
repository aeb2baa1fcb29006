// An app flag has one of the types the parser fills.
// expect-first-error: flamecpp: app.flag<T>\(\) takes T = std::string, long long, double, bool
// expect: T = (int|unsigned int)
#include <flamecpp/flamecpp.hpp>

int main() {
    flamecpp::App app;
#ifdef FLAMECPP_FIXED
    auto workers = app.flag<long long>("workers", "how many", 4);
#else
    auto workers = app.flag<int>("workers", "how many", 4);
#endif
    (void)workers;
}
