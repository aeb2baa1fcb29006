#include <array>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <vector>

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <pthread.h>

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

/// Counts forks: a child's first draw refills its block rather than reuse its parent's bytes.
std::atomic<unsigned> fork_generation{0};
const int fork_handler = ::pthread_atfork(nullptr, nullptr, [] { ++fork_generation; });

/// Random bytes for identifiers, drawn from a per-thread block that one RAND_bytes call fills:
/// RAND_bytes costs about 7,000 instructions a call (OpenSSL 3's CTR-DRBG and its parameter
/// lookups), which RequestID would pay on every request. The block is the CSPRNG's output all
/// the same; a child process (fork) discards the block it inherited.
class RandomBlock {
public:
    void take(unsigned char* out, std::size_t size) {
        if (size > block_.size()) {
            fill_random(out, size);
            return;
        }
        const unsigned generation = fork_generation.load(std::memory_order_relaxed);
        if (used_ + size > block_.size() || generation != generation_) {
            fill_random(block_.data(), block_.size());
            used_ = 0;
            generation_ = generation;
        }
        std::memcpy(out, block_.data() + used_, size);
        // What was handed out is not kept.
        OPENSSL_cleanse(block_.data() + used_, size);
        used_ += size;
    }

private:
    std::array<unsigned char, 4096> block_{};
    std::size_t used_ = block_.size();
    unsigned generation_ = 0;
};

thread_local RandomBlock random_block;

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
    random_block.take(raw.data(), raw.size());
    raw[6] = static_cast<unsigned char>((raw[6] & 0x0f) | 0x40);  // version 4
    raw[8] = static_cast<unsigned char>((raw[8] & 0x3f) | 0x80);  // the RFC 9562 variant
    // 8-4-4-4-12 hex digits: where each byte's two digits go.
    static constexpr std::array<unsigned char, 16> at = {0,  2,  4,  6,  9,  11, 14, 16,
                                                         19, 21, 24, 26, 28, 30, 32, 34};
    std::string out(36, '-');
    for (std::size_t i = 0; i < raw.size(); ++i) {
        out[at[i]] = hex_digits[raw[i] >> 4];
        out[at[i] + 1u] = hex_digits[raw[i] & 0x0f];
    }
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
