// The TestClient's cookie jar: RFC 6265 section 5 storage and retrieval, for one site.
#include <algorithm>
#include <charconv>
#include <ctime>
#include <string>

#include <flamecpp/testing.hpp>

#include "text/ascii.hpp"

namespace flamecpp::testing {
namespace {

using SystemClock = std::chrono::system_clock;

std::string lowercase(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), ::flamecpp::detail::ascii_lower);
    return out;
}

// Expires values in the two layouts servers send (RFC 9110 IMF-fixdate, RFC 850), read with
// the C library's strptime; nullopt for anything else (the attribute is then ignored).
std::optional<SystemClock::time_point> parse_expires(std::string_view value) {
    const std::string text(value);
    for (const char* layout : {"%a, %d %b %Y %H:%M:%S GMT", "%A, %d-%b-%y %H:%M:%S GMT"}) {
        std::tm tm{};
        const char* end = ::strptime(text.c_str(), layout, &tm);
        if (end != nullptr && *end == '\0') {
            return SystemClock::from_time_t(::timegm(&tm));
        }
    }
    return std::nullopt;
}

// RFC 6265 5.1.4: the directory of the request path.
std::string default_path(std::string_view request_path) {
    auto slash = request_path.rfind('/');
    if (request_path.empty() || request_path.front() != '/' || slash == 0 ||
        slash == std::string_view::npos) {
        return "/";
    }
    return std::string(request_path.substr(0, slash));
}

// RFC 6265 5.1.4 path-match.
bool path_matches(std::string_view request_path, std::string_view cookie_path) {
    if (request_path == cookie_path) {
        return true;
    }
    return request_path.starts_with(cookie_path) &&
           (cookie_path.ends_with('/') || request_path[cookie_path.size()] == '/');
}

// RFC 6265 5.1.3 domain-match, for a host name (not an IP address).
bool domain_matches(std::string_view host, std::string_view domain) {
    return host == domain || (host.size() > domain.size() && host.ends_with(domain) &&
                              host[host.size() - domain.size() - 1] == '.');
}

bool expired(const CookieJar::Entry& e, SystemClock::time_point now) {
    return e.expires && *e.expires <= now;
}

}  // namespace

void CookieJar::store(std::string_view set_cookie,
                      std::string_view request_path,
                      std::string_view host) {
    auto semicolon = set_cookie.find(';');
    std::string_view pair = set_cookie.substr(0, semicolon);
    std::string_view attributes =
        semicolon == std::string_view::npos ? std::string_view{} : set_cookie.substr(semicolon);
    auto equals = pair.find('=');
    if (equals == std::string_view::npos) {
        return;
    }
    Entry entry;
    entry.name = ::flamecpp::detail::trim_ows(pair.substr(0, equals));
    entry.value = ::flamecpp::detail::trim_ows(pair.substr(equals + 1));
    if (entry.name.empty()) {
        return;
    }
    entry.path = default_path(request_path);

    std::optional<SystemClock::time_point> by_max_age;
    std::optional<SystemClock::time_point> by_expires;
    const auto now = SystemClock::now();
    while (!attributes.empty()) {
        attributes.remove_prefix(1);  // the ';'
        auto next = attributes.find(';');
        std::string_view attribute = attributes.substr(0, next);
        attributes = next == std::string_view::npos ? std::string_view{} : attributes.substr(next);
        auto eq = attribute.find('=');
        const std::string key = lowercase(::flamecpp::detail::trim_ows(attribute.substr(0, eq)));
        std::string_view value = eq == std::string_view::npos
                                     ? std::string_view{}
                                     : ::flamecpp::detail::trim_ows(attribute.substr(eq + 1));
        if (key == "max-age") {
            long long seconds = 0;
            auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
            if (ec == std::errc{} && end == value.data() + value.size()) {
                by_max_age = seconds <= 0 ? SystemClock::time_point::min()
                                          : now + std::chrono::seconds(seconds);
            }
        } else if (key == "expires") {
            by_expires = parse_expires(value);
        } else if (key == "domain") {
            std::string domain = lowercase(value);
            if (!domain.empty() && domain.front() == '.') {
                domain.erase(0, 1);
            }
            if (!domain.empty() && !domain_matches(lowercase(host), domain)) {
                return;  // for another site: browsers ignore it
            }
        } else if (key == "path") {
            if (!value.empty() && value.front() == '/') {
                entry.path = value;
            }
        } else if (key == "secure") {
            entry.secure = true;
        } else if (key == "httponly") {
            entry.http_only = true;
        }
    }
    entry.expires = by_max_age ? by_max_age : by_expires;  // Max-Age wins (RFC 6265 5.3 step 3)

    std::erase_if(entries_,
                  [&](const Entry& e) { return e.name == entry.name && e.path == entry.path; });
    if (!expired(entry, now)) {
        entries_.push_back(std::move(entry));
    }
}

std::string CookieJar::header_for(std::string_view path) const {
    drop_expired();
    std::vector<const Entry*> matching;
    for (const auto& e : entries_) {
        if (path_matches(path, e.path)) {
            matching.push_back(&e);
        }
    }
    // RFC 6265 5.4: longer paths first, then the order of creation.
    std::stable_sort(matching.begin(), matching.end(), [](const Entry* a, const Entry* b) {
        return a->path.size() > b->path.size();
    });
    std::string out;
    for (const Entry* e : matching) {
        if (!out.empty()) {
            out += "; ";
        }
        out.append(e->name).append("=").append(e->value);
    }
    return out;
}

std::optional<std::string> CookieJar::get(std::string_view name) const {
    drop_expired();
    for (const auto& e : entries_) {
        if (e.name == name) {
            return e.value;
        }
    }
    return std::nullopt;
}

void CookieJar::set(std::string name, std::string value, std::string path) {
    std::erase_if(entries_, [&](const Entry& e) { return e.name == name && e.path == path; });
    Entry entry;
    entry.name = std::move(name);
    entry.value = std::move(value);
    entry.path = std::move(path);
    entries_.push_back(std::move(entry));
}

void CookieJar::erase(std::string_view name) {
    std::erase_if(entries_, [&](const Entry& e) { return e.name == name; });
}

const std::vector<CookieJar::Entry>& CookieJar::entries() const {
    drop_expired();
    return entries_;
}

void CookieJar::drop_expired() const {
    const auto now = SystemClock::now();
    std::erase_if(entries_, [&](const Entry& e) { return expired(e, now); });
}

}  // namespace flamecpp::testing
