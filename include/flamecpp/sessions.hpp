#pragma once

/// @file
/// Sessions in a signed cookie, as Starlette's SessionMiddleware: the session is a JSON object
/// a handler takes as `flamecpp::Session&`; the middleware loads it from the cookie and saves
/// it into the answer. Include <flamecpp/json.hpp> to read and write its values.
///
/// @code
/// app.middleware(flamecpp::Sessions{{.secret_key = secret}});
///
/// boost::json::value visits(flamecpp::Session& session) {
///     auto& data = session.data();
///     std::int64_t n = data.contains("visits") ? data.at("visits").to_number<std::int64_t>() : 0;
///     data["visits"] = n + 1;
///     return {{"visits", n + 1}};
/// }
/// @endcode

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <flamecpp/detail/inject.hpp>
#include <flamecpp/middleware.hpp>
#include <flamecpp/request.hpp>
#include <flamecpp/response.hpp>
#include <flamecpp/task.hpp>

namespace boost::json {
class object;
}

namespace flamecpp {

/// One client's session: a JSON object kept in its cookie. Changes made while a request is
/// handled are saved in the answer; a WebSocket handler sees the session of its handshake,
/// and its changes are not saved (no answer carries them).
class Session {
public:
    /// An empty session.
    Session();
    /// Destroys the session's values.
    ~Session();
    /// Not copyable: handlers take the request's session by reference (`Session&`).
    Session(const Session&) = delete;
    /// Not copyable.
    Session& operator=(const Session&) = delete;

    /// The session's values, to read and change (include <flamecpp/json.hpp> to use them).
    boost::json::object& data() noexcept { return *data_; }
    /// The session's values, read-only.
    const boost::json::object& data() const noexcept { return *data_; }
    /// True when the session holds no value: the answer sends no cookie (or deletes it).
    bool empty() const noexcept;
    /// Forgets everything: the answer deletes the cookie (log out).
    void clear() noexcept;

private:
    std::unique_ptr<boost::json::object> data_;
};

/// How Sessions signs and sends its cookie.
struct SessionOptions {
    /// Signs new cookies (HMAC-SHA256). Required: a random key of 32 bytes or more, e.g.
    /// flamecpp::random_hex(32) kept in the service's secrets.
    std::string secret_key;
    /// Former keys: cookies they signed still verify (key rotation), new ones use secret_key.
    std::vector<std::string> old_keys;
    /// The name of the cookie.
    std::string cookie_name = "session";
    /// Seconds a session lives after its last answer (also checked against the signed time,
    /// so an old cookie replayed does not verify); nullopt: until the browser closes.
    std::optional<std::int64_t> max_age = 14 * 24 * 3600;
    std::string path = "/";              ///< the cookie's Path
    std::string domain;                  ///< empty: the host that answered only
    SameSite same_site = SameSite::lax;  ///< the cookie's SameSite attribute
    bool https_only = false;             ///< adds `Secure`
};

/// Loads `Session&` from a signed cookie and saves it into every answer: a non-empty session
/// is signed and sent again (its max age renewed); one emptied is deleted from the browser.
/// A cookie that does not verify (another key, tampered, expired, not base64 or not a JSON
/// object) gives an empty session, never an error. The cookie is always `HttpOnly`; one over
/// 4000 bytes is logged as a warning, since browsers may drop it.
class Sessions {
public:
    /// Throws std::invalid_argument when secret_key is empty.
    explicit Sessions(SessionOptions options);
    /// The middleware: loads the session for the request, awaits `next`, and saves the session
    /// into the answer (not into a WebSocket handshake's 101).
    Task<Response> operator()(Request& request, Next next) const;

    /// The cookie value for `session` signed at `now` (seconds since the epoch).
    std::string sign(const Session& session, std::int64_t now) const;
    /// The session in `cookie` when it verifies at `now`; false (and `session` emptied) else.
    bool load(std::string_view cookie, std::int64_t now, Session& session) const;

    /// Internal: the keys and cookie attributes, defined inside the library.
    struct Keys;

private:
    std::shared_ptr<const Keys> keys_;
};

namespace detail {

/// `Session&`: the request's session, loaded by the Sessions middleware.
template <>
struct Injector<Session&> : NoRequirements {
    static constexpr bool available = true;
    static Session& get(CallContext& ctx) { return ctx.request.session(); }
};

}  // namespace detail

}  // namespace flamecpp
