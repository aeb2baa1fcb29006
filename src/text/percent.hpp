#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace flamecpp::detail {

/// Appends the percent-decoding of `in` to `out`; with `plus_as_space`, '+' decodes to ' '
/// (HTML form encoding, for queries). Returns false, appending nothing, when `in` holds an
/// invalid escape.
bool percent_decode_append(std::string_view in, std::string& out, bool plus_as_space = false);

/// The decoded value of the first query parameter named `name` in `query` (without '?'):
/// "a=1&b" has a = "1" and b = "". Undecodable names or values are skipped.
///
/// The pairs are split here rather than by boost::urls::parse_query, which in Boost 1.81
/// reads past the end of a string_view that is not NUL-terminated (see query_test).
/// With `rest`, stores the part of the query after the match, to find the next one.
std::optional<std::string> find_query_param(std::string_view query,
                                            std::string_view name,
                                            std::string_view* rest = nullptr);

}  // namespace flamecpp::detail
