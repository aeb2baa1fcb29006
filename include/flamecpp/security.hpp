#pragma once

/// @file
/// Random values for tokens, keys and identifiers, from OpenSSL's CSPRNG (`RAND_bytes`):
/// never a seeded std::mt19937, whose output can be predicted from a few samples.

#include <cstddef>
#include <string>

namespace flamecpp {

/// `bytes` random bytes as lowercase hex (2 characters per byte): a session token, a key.
/// Throws std::runtime_error if the CSPRNG fails (it does not on a working system).
std::string random_hex(std::size_t bytes);

/// A random UUID (version 4, RFC 9562), lowercase: "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx".
std::string random_uuid();

}  // namespace flamecpp
