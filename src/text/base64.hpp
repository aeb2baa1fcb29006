#pragma once

#include <string>
#include <string_view>

namespace flamecpp::detail {

/// Standard, padded base64 (RFC 4648 4) of `bytes`, by OpenSSL.
std::string base64_encode(std::string_view bytes);

/// The bytes of standard, padded base64 `text` into `out`; false when `text` is anything else
/// (white space included).
bool base64_decode(std::string_view text, std::string& out);

}  // namespace flamecpp::detail
