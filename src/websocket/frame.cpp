#include "websocket/frame.hpp"

#include <cstdint>
#include <cstring>

#include <openssl/evp.h>
#include <simdjson.h>

namespace flamecpp::detail::ws {
namespace {

std::uint8_t byte_at(std::span<const char> in, std::size_t i) noexcept {
    return static_cast<std::uint8_t>(in[i]);
}

bool is_known_opcode(unsigned op) noexcept { return op <= 0x2 || (op >= 0x8 && op <= 0xA); }

}  // namespace

HeaderResult parse_client_header(std::span<const char> in, FrameHeader& out) noexcept {
    if (in.size() < 2) {
        return HeaderResult::incomplete;
    }
    const std::uint8_t b0 = byte_at(in, 0);
    const std::uint8_t b1 = byte_at(in, 1);
    const unsigned op = b0 & 0x0F;
    if ((b0 & 0x70) != 0 || !is_known_opcode(op) || (b1 & 0x80) == 0) {
        return HeaderResult::protocol_error;  // RSV bits, reserved opcode, unmasked
    }
    out.fin = (b0 & 0x80) != 0;
    out.opcode = static_cast<Opcode>(op);
    const unsigned short_length = b1 & 0x7F;
    std::size_t length_bytes = 0;
    if (short_length == 126) {
        length_bytes = 2;
    } else if (short_length == 127) {
        length_bytes = 8;
    }
    if (is_control(out.opcode) && (!out.fin || short_length > max_control_payload)) {
        return HeaderResult::protocol_error;
    }
    const std::size_t size = 2 + length_bytes + 4;
    if (in.size() < size) {
        return HeaderResult::incomplete;
    }
    std::uint64_t length = short_length;
    if (length_bytes != 0) {
        length = 0;
        for (std::size_t i = 0; i < length_bytes; ++i) {
            length = (length << 8) | byte_at(in, 2 + i);
        }
        const bool shortest = length_bytes == 2 ? length >= 126 : length > 0xFFFF;
        if (!shortest || (length >> 63) != 0) {
            return HeaderResult::protocol_error;
        }
    }
    out.length = length;
    std::memcpy(out.mask.data(), in.data() + 2 + length_bytes, 4);
    out.size = size;
    return HeaderResult::ok;
}

std::size_t write_server_header(std::span<char, max_server_header> out,
                                Opcode opcode,
                                std::uint64_t length) noexcept {
    out[0] = static_cast<char>(0x80 | static_cast<unsigned>(opcode));
    if (length < 126) {
        out[1] = static_cast<char>(length);
        return 2;
    }
    std::size_t length_bytes = 8;
    out[1] = static_cast<char>(127);
    if (length <= 0xFFFF) {
        length_bytes = 2;
        out[1] = static_cast<char>(126);
    }
    for (std::size_t i = 0; i < length_bytes; ++i) {
        out[2 + i] = static_cast<char>((length >> (8 * (length_bytes - 1 - i))) & 0xFF);
    }
    return 2 + length_bytes;
}

void apply_mask(char* data, std::size_t size, const std::array<std::uint8_t, 4>& mask) noexcept {
    // Eight bytes at a time: the key repeated twice, in memory order, so the XOR is the same
    // whatever the machine's byte order.
    std::array<std::uint8_t, 8> wide{};
    for (std::size_t i = 0; i < 8; ++i) {
        wide[i] = mask[i % 4];
    }
    std::uint64_t key = 0;
    std::memcpy(&key, wide.data(), 8);
    std::size_t i = 0;
    for (; i + 8 <= size; i += 8) {
        std::uint64_t word = 0;
        std::memcpy(&word, data + i, 8);
        word ^= key;
        std::memcpy(data + i, &word, 8);
    }
    for (; i < size; ++i) {
        data[i] = static_cast<char>(static_cast<std::uint8_t>(data[i]) ^ mask[i % 4]);
    }
}

bool is_sendable_close_code(std::uint16_t code) noexcept {
    if (code >= 3000 && code <= 4999) {
        return true;
    }
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014);
}

CloseResult parse_close_payload(std::string_view payload,
                                std::uint16_t& code,
                                std::string_view& reason) noexcept {
    if (payload.empty()) {
        code = 1005;  // no status code present
        reason = {};
        return CloseResult::ok;
    }
    if (payload.size() == 1) {
        return CloseResult::protocol_error;
    }
    code = static_cast<std::uint16_t>((static_cast<std::uint8_t>(payload[0]) << 8) |
                                      static_cast<std::uint8_t>(payload[1]));
    if (!is_sendable_close_code(code)) {
        return CloseResult::protocol_error;
    }
    reason = payload.substr(2);
    return is_utf8(reason) ? CloseResult::ok : CloseResult::invalid_utf8;
}

std::string make_close_payload(std::uint16_t code, std::string_view reason) {
    std::string payload;
    if (!is_sendable_close_code(code)) {
        return payload;
    }
    reason = reason.substr(0, max_control_payload - 2);
    payload.reserve(2 + reason.size());
    payload += static_cast<char>(code >> 8);
    payload += static_cast<char>(code & 0xFF);
    payload += reason;
    return payload;
}

bool is_utf8(std::string_view text) noexcept {
    // Short messages that are all ASCII, the usual chat or JSON line, are checked eight bytes
    // at a time here: simdjson's validator copies an input this short into a padded block
    // first, which costs more than the check. Anything else goes to simdjson.
    constexpr std::size_t short_text = 256;
    if (text.size() <= short_text) {
        std::uint64_t high = 0;
        std::size_t i = 0;
        for (; i + 8 <= text.size(); i += 8) {
            std::uint64_t word = 0;
            std::memcpy(&word, text.data() + i, 8);
            high |= word;
        }
        for (; i < text.size(); ++i) {
            high |= static_cast<unsigned char>(text[i]);
        }
        if ((high & 0x8080808080808080ULL) == 0) {
            return true;
        }
    }
    return simdjson::validate_utf8(text);
}

std::string accept_key(std::string_view key) {
    // RFC 6455 4.2.2: base64(SHA-1(key + GUID)), with OpenSSL's one-shot digest and encoder.
    constexpr std::string_view guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    char input[64];  // is_valid_key admitted 24 characters; the GUID is 36
    if (key.size() + guid.size() > sizeof(input)) {
        return {};
    }
    std::memcpy(input, key.data(), key.size());
    std::memcpy(input + key.size(), guid.data(), guid.size());
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_size = 0;
    if (EVP_Digest(input, key.size() + guid.size(), digest, &digest_size, EVP_sha1(), nullptr) !=
        1) {
        return {};
    }
    unsigned char encoded[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
    const int length = EVP_EncodeBlock(encoded, digest, static_cast<int>(digest_size));
    return std::string(reinterpret_cast<const char*>(encoded), static_cast<std::size_t>(length));
}

bool is_valid_key(std::string_view key) noexcept {
    if (key.size() != 24 || key.substr(22) != "==") {
        return false;
    }
    for (char c : key.substr(0, 22)) {
        const bool base64 = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                            (c >= '0' && c <= '9') || c == '+' || c == '/';
        if (!base64) {
            return false;
        }
    }
    return true;
}

}  // namespace flamecpp::detail::ws
