#pragma once

#include <string_view>

namespace flamecpp::detail {

constexpr char ascii_lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? char(c + 32) : c; }

/// ASCII case-insensitive comparison, as HTTP field names need (RFC 9110 5.1).
constexpr bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (ascii_lower(a[i]) != ascii_lower(b[i])) {
            return false;
        }
    }
    return true;
}

/// `s` without leading and trailing spaces and tabs (RFC 9110 5.6.3, optional white space).
constexpr std::string_view trim_ows(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

/// Calls `fn` with each non-empty, trimmed item of a comma-separated field value
/// (RFC 9110 5.6.1); stops early when `fn` returns true, and says whether it did.
template <class Fn>
bool for_each_list_item(std::string_view list, Fn fn) {
    while (!list.empty()) {
        auto comma = list.find(',');
        std::string_view item = trim_ows(list.substr(0, comma));
        if (!item.empty() && fn(item)) {
            return true;
        }
        list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
    }
    return false;
}

/// True for a Host field value a URL may be built from (RFC 9110 7.2 with RFC 3986's
/// authority, strictly): a name of letters, digits, '-', '.' and '_', or a bracketed IPv6
/// literal of hex digits, ':' and '.', then an optional ':' and port digits. No user info, no
/// path, no white space: `example.com:@evil.com` is not a host.
constexpr bool valid_host(std::string_view host) noexcept {
    std::size_t i = 0;
    if (!host.empty() && host.front() == '[') {
        const auto close = host.find(']');
        if (close == std::string_view::npos || close < 3) {
            return false;
        }
        for (char c : host.substr(1, close - 1)) {
            const bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
                            (c >= 'A' && c <= 'F') || c == ':' || c == '.';
            if (!ok) {
                return false;
            }
        }
        i = close + 1;
    } else {
        for (; i < host.size() && host[i] != ':'; ++i) {
            const char c = host[i];
            const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
            if (!ok) {
                return false;
            }
        }
        if (i == 0) {
            return false;
        }
    }
    if (i == host.size()) {
        return true;
    }
    if (host[i] != ':' || i + 1 == host.size() || host.size() - i - 1 > 5) {
        return false;
    }
    for (char c : host.substr(i + 1)) {
        if (c < '0' || c > '9') {
            return false;
        }
    }
    return true;
}

}  // namespace flamecpp::detail
