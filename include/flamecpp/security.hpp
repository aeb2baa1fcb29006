#pragma once

/// @file
/// Random values for tokens, keys and identifiers, from OpenSSL's CSPRNG (`RAND_bytes`):
/// never a seeded std::mt19937, whose output can be predicted from a few samples. And the
/// small pieces of checking credentials: constant-time comparison, Basic authentication.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace flamecpp {

/// `bytes` random bytes as lowercase hex (2 characters per byte): a session token, a key.
/// Throws std::runtime_error if the CSPRNG fails (it does not on a working system).
std::string random_hex(std::size_t bytes);

/// A random UUID (version 4, RFC 9562), lowercase: "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx".
std::string random_uuid();

/// Compares two secrets in time that depends on their lengths only, not on where they
/// differ (OpenSSL's CRYPTO_memcmp): for passwords, tokens and signatures.
bool constant_time_equals(std::string_view a, std::string_view b) noexcept;

/// The user and password of an `Authorization: Basic ...` header value (RFC 7617).
struct BasicCredentials {
    std::string user;      ///< before the first ':' (may be empty)
    std::string password;  ///< after the first ':' (may be empty, may hold ':')
};

/// Decodes an `Authorization` value of the Basic scheme (case-insensitive, base64 of
/// "user:password"); nullopt for another scheme, bad base64 or no ':'.
///
/// @code
/// auto credentials = flamecpp::basic_auth(request.header("Authorization").value_or(""));
/// if (!credentials || !flamecpp::constant_time_equals(credentials->password, expected)) {
///     throw flamecpp::HTTPException(flamecpp::Status::unauthorized, "Unauthorized",
///                                   {{"WWW-Authenticate", "Basic realm=\"site\""}});
/// }
/// @endcode
std::optional<BasicCredentials> basic_auth(std::string_view authorization);

}  // namespace flamecpp
