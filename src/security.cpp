#include <array>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <flamecpp/security.hpp>

#include "text/ascii.hpp"
#include "text/base64.hpp"

namespace flamecpp {
namespace {

void fill_random(unsigned char* out, std::size_t size) {
    // RAND_bytes takes an int: fill in slices for (absurdly) large requests.
    while (size > 0) {
        const int chunk = size > 1u << 20 ? 1 << 20 : static_cast<int>(size);
        if (RAND_bytes(out, chunk) != 1) {
            throw std::runtime_error("flamecpp: the system's random generator failed");
        }
        out += chunk;
        size -= static_cast<std::size_t>(chunk);
    }
}

constexpr char hex_digits[] = "0123456789abcdef";

void append_hex(std::string& out, const unsigned char* bytes, std::size_t size) {
    for (std::size_t i = 0; i < size; ++i) {
        out += hex_digits[bytes[i] >> 4];
        out += hex_digits[bytes[i] & 0x0f];
    }
}

}  // namespace

std::string random_hex(std::size_t bytes) {
    std::vector<unsigned char> raw(bytes);
    fill_random(raw.data(), raw.size());
    std::string out;
    out.reserve(bytes * 2);
    append_hex(out, raw.data(), raw.size());
    return out;
}

std::string random_uuid() {
    std::array<unsigned char, 16> raw{};
    fill_random(raw.data(), raw.size());
    raw[6] = static_cast<unsigned char>((raw[6] & 0x0f) | 0x40);  // version 4
    raw[8] = static_cast<unsigned char>((raw[8] & 0x3f) | 0x80);  // the RFC 9562 variant
    std::string out;
    out.reserve(36);
    append_hex(out, raw.data(), 4);
    out += '-';
    append_hex(out, raw.data() + 4, 2);
    out += '-';
    append_hex(out, raw.data() + 6, 2);
    out += '-';
    append_hex(out, raw.data() + 8, 2);
    out += '-';
    append_hex(out, raw.data() + 10, 6);
    return out;
}

bool constant_time_equals(std::string_view a, std::string_view b) noexcept {
    // The length is not secret (it shows in the request); the bytes are.
    return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::optional<BasicCredentials> basic_auth(std::string_view authorization) {
    authorization = detail::trim_ows(authorization);
    const auto space = authorization.find(' ');
    if (space == std::string_view::npos ||
        !detail::iequals(authorization.substr(0, space), "Basic")) {
        return std::nullopt;
    }
    std::string decoded;
    if (!detail::base64_decode(detail::trim_ows(authorization.substr(space + 1)), decoded)) {
        return std::nullopt;
    }
    const auto colon = decoded.find(':');
    if (colon == std::string::npos) {
        return std::nullopt;
    }
    return BasicCredentials{decoded.substr(0, colon), decoded.substr(colon + 1)};
}

}  // namespace flamecpp
