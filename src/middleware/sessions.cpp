#include <charconv>
#include <chrono>
#include <stdexcept>
#include <string>
#include <utility>

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <spdlog/logger.h>

#include <flamecpp/sessions.hpp>

#include "log.hpp"
#include "text/base64.hpp"

namespace flamecpp {

Session::Session() : data_(std::make_unique<boost::json::object>()) {}
Session::~Session() = default;

bool Session::empty() const noexcept { return data_->empty(); }
void Session::clear() noexcept { data_->clear(); }

namespace {

// The cookie: BASE64(JSON) "." TIME "." BASE64(HMAC-SHA256(key, BASE64(JSON) "." TIME)).
// Standard base64 ('+', '/', '=') and '.' are all cookie-octets (RFC 6265 4.1.1).
constexpr std::size_t kDigest = 32;

void hmac(std::string_view key, std::string_view data, unsigned char (&digest)[kDigest]) {
    unsigned int size = 0;
    if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
             reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest,
             &size) == nullptr ||
        size != kDigest) {
        throw std::runtime_error("flamecpp: Sessions: HMAC-SHA256 failed");
    }
}

std::int64_t now_seconds() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace

struct Sessions::Keys {
    std::vector<std::string> keys;  // the signing key first, then the old ones
    std::string cookie;
    CookieOptions options;
    std::optional<std::int64_t> max_age;
};

Sessions::Sessions(SessionOptions options) {
    if (options.secret_key.empty()) {
        throw std::invalid_argument("flamecpp: Sessions needs a secret_key");
    }
    auto keys = std::make_shared<Keys>();
    keys->keys.push_back(std::move(options.secret_key));
    for (auto& key : options.old_keys) {
        keys->keys.push_back(std::move(key));
    }
    keys->cookie = std::move(options.cookie_name);
    keys->max_age = options.max_age;
    keys->options = CookieOptions{.path = std::move(options.path),
                                  .domain = std::move(options.domain),
                                  .max_age = options.max_age,
                                  .secure = options.https_only,
                                  .http_only = true,
                                  .same_site = options.same_site};
    keys_ = std::move(keys);
}

std::string Sessions::sign(const Session& session, std::int64_t now) const {
    const std::string json = boost::json::serialize(session.data());
    std::string value = detail::base64_encode(json);
    value += '.';
    value += std::to_string(now);
    unsigned char digest[kDigest];
    hmac(keys_->keys.front(), value, digest);
    value += '.';
    value +=
        detail::base64_encode(std::string_view(reinterpret_cast<const char*>(digest), kDigest));
    return value;
}

bool Sessions::load(std::string_view cookie, std::int64_t now, Session& session) const {
    session.clear();
    const auto dot = cookie.rfind('.');
    if (dot == std::string_view::npos) {
        return false;
    }
    const std::string_view signed_part = cookie.substr(0, dot);
    std::string given;
    if (!detail::base64_decode(cookie.substr(dot + 1), given) || given.size() != kDigest) {
        return false;
    }
    bool verified = false;
    for (const auto& key : keys_->keys) {
        unsigned char digest[kDigest];
        hmac(key, signed_part, digest);
        if (CRYPTO_memcmp(digest, given.data(), kDigest) == 0) {
            verified = true;
            break;
        }
    }
    if (!verified) {
        return false;
    }
    // Signed by us: the rest is well formed unless a key leaked, but is checked all the same.
    const auto time_dot = signed_part.rfind('.');
    if (time_dot == std::string_view::npos) {
        return false;
    }
    const std::string_view time = signed_part.substr(time_dot + 1);
    std::int64_t signed_at = 0;
    auto [end, ec] = std::from_chars(time.data(), time.data() + time.size(), signed_at);
    if (ec != std::errc() || end != time.data() + time.size()) {
        return false;
    }
    if (keys_->max_age && now - signed_at > *keys_->max_age) {
        return false;  // expired, whatever the browser kept
    }
    std::string json;
    if (!detail::base64_decode(signed_part.substr(0, time_dot), json)) {
        return false;
    }
    boost::system::error_code parse_error;
    boost::json::value value = boost::json::parse(json, parse_error);
    if (parse_error || !value.is_object()) {
        return false;
    }
    session.data() = std::move(value.as_object());
    return true;
}

Task<Response> Sessions::operator()(Request& request, Next next) const {
    auto session = std::make_shared<Session>();
    const auto cookie = request.cookie(keys_->cookie);
    const bool had_cookie = cookie.has_value();
    if (cookie) {
        load(*cookie, now_seconds(), *session);
    }
    request.session_ = session;
    Response response = co_await next();
    if (response.status() == Status::switching_protocols) {
        co_return response;  // a WebSocket handshake: nothing to save
    }
    if (!session->empty()) {
        std::string value = sign(*session, now_seconds());
        if (value.size() > 4000) {
            // Browsers keep cookies of up to 4096 bytes (name and attributes included).
            detail::logger().warn(
                "session cookie of {} bytes: browsers may drop it; keep less in the session",
                value.size());
        }
        response.set_cookie(keys_->cookie, value, keys_->options);
    } else if (had_cookie) {
        response.delete_cookie(keys_->cookie, keys_->options);
    }
    co_return response;
}

}  // namespace flamecpp
