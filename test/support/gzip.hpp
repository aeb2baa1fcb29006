// Test-only helper: inflates what a server sent with Content-Encoding: gzip.
#pragma once

#include <string>

namespace flamecpp::test {

// The bytes of one whole gzip member (zlib); a test failure when `data` is anything else
// (truncated, not gzip, bytes after the member).
std::string gunzip(const std::string& data);

}  // namespace flamecpp::test
