// A hook reports failure by throwing, not with a value nobody reads.
// expect-first-error: flamecpp: a startup or shutdown hook returns void or Task<void>
// expect: F = bool
#include <flamecpp/flamecpp.hpp>

#ifdef FLAMECPP_FIXED
void flush() {}
#else
bool flush() { return true; }
#endif

int main() {
    flamecpp::App app;
    app.on_shutdown(flush);
}
