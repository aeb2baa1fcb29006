// The static path resolver: whatever the raw path, what it accepts has no empty, `.` or `..`
// segment, no backslash or NUL, does not start with '/', and decoding never grows it.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "http/files.hpp"

namespace {

[[noreturn]] void fail(const char* what) {
    std::fprintf(stderr, "fuzz: %s\n", what);
    std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view raw(reinterpret_cast<const char*>(data), size);
    const auto path = flamecpp::detail::static_relative_path(raw);
    if (!path) {
        return 0;
    }
    if (path->size() > raw.size()) {
        fail("the decoded path is longer than the raw one");
    }
    if (path->find('\\') != std::string::npos || path->find('\0') != std::string::npos) {
        fail("a backslash or NUL got through");
    }
    if (!path->empty() && path->front() == '/') {
        fail("an absolute path got through");
    }
    std::string_view rest = *path;
    if (rest.ends_with('/')) {
        rest.remove_suffix(1);  // the one empty segment allowed: a trailing '/'
    }
    while (!path->empty()) {
        const auto slash = rest.find('/');
        const std::string_view segment = rest.substr(0, slash);
        if (segment.empty() || segment == "." || segment == "..") {
            fail("an empty, '.' or '..' segment got through");
        }
        if (slash == std::string_view::npos) {
            break;
        }
        rest.remove_prefix(slash + 1);
    }
    return 0;
}
