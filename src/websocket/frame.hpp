#pragma once

// RFC 6455 framing for the server side: client frame headers in, server frame headers out,
// masking, close payloads, and the handshake's accept key. Pure functions over bytes, so the
// session stays about I/O and state, and the codec can be tested and fuzzed on its own.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace flamecpp::detail::ws {

enum class Opcode : std::uint8_t {
    continuation = 0x0,
    text = 0x1,
    binary = 0x2,
    close = 0x8,
    ping = 0x9,
    pong = 0xA,
};

constexpr bool is_control(Opcode op) noexcept { return (static_cast<unsigned>(op) & 0x8) != 0; }

/// The largest client frame header: 2 bytes, a 64-bit length, a 4-byte mask key.
inline constexpr std::size_t max_client_header = 14;
/// The largest server frame header: 2 bytes and a 64-bit length; servers do not mask.
inline constexpr std::size_t max_server_header = 10;
/// A control frame's payload limit (RFC 6455 5.5).
inline constexpr std::size_t max_control_payload = 125;

struct FrameHeader {
    bool fin = false;
    Opcode opcode = Opcode::continuation;
    std::uint64_t length = 0;            ///< payload bytes
    std::array<std::uint8_t, 4> mask{};  ///< the client's masking key
    std::size_t size = 0;                ///< bytes the header took on the wire
};

enum class HeaderResult : std::uint8_t { incomplete, ok, protocol_error };

/// Parses a client frame header from the start of `in` (RFC 6455 5.2). A server must refuse:
/// an unmasked frame, RSV bits (no extension is ever negotiated), a reserved opcode, a
/// fragmented or longer-than-125-byte control frame, a length not in its shortest form, and
/// a 64-bit length with the top bit set.
HeaderResult parse_client_header(std::span<const char> in, FrameHeader& out) noexcept;

/// Writes the header of a final, unmasked frame of `length` bytes; returns its size.
std::size_t write_server_header(std::span<char, max_server_header> out,
                                Opcode opcode,
                                std::uint64_t length) noexcept;

/// XORs `data` with the masking key (unmasking is the same operation).
void apply_mask(char* data, std::size_t size, const std::array<std::uint8_t, 4>& mask) noexcept;

/// Whether a close frame may carry `code` (RFC 6455 7.4.1 and 7.4.2): 1000-1003, 1007-1014
/// and 3000-4999. 1005, 1006 and 1015 only stand for "none", "abnormal" and "TLS failed".
bool is_sendable_close_code(std::uint16_t code) noexcept;

enum class CloseResult : std::uint8_t { ok, protocol_error, invalid_utf8 };

/// Reads a received close frame's payload: empty (code 1005, no status), or a valid code
/// followed by a UTF-8 reason. `reason` points into `payload`.
CloseResult parse_close_payload(std::string_view payload,
                                std::uint16_t& code,
                                std::string_view& reason) noexcept;

/// A close frame's payload: `code` and up to 123 bytes of `reason`, or nothing when `code`
/// may not be sent (1005, 1006 ...).
std::string make_close_payload(std::uint16_t code, std::string_view reason);

/// Whether `text` is UTF-8 (simdjson's validator).
bool is_utf8(std::string_view text) noexcept;

/// The Sec-WebSocket-Accept value for a client's Sec-WebSocket-Key (RFC 6455 4.2.2); empty
/// for a key of more than 28 characters (`is_valid_key` admits only 24).
std::string accept_key(std::string_view key);

/// Whether `key` can be a Sec-WebSocket-Key: 16 bytes in base64, so 22 base64 characters
/// and "==".
bool is_valid_key(std::string_view key) noexcept;

}  // namespace flamecpp::detail::ws
