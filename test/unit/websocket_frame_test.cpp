#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "websocket/frame.hpp"

namespace flamecpp::detail::ws {
namespace {

/// A client frame as a browser would send it: masked with `key`.
std::string client_frame(std::uint8_t first_byte,
                         const std::string& payload,
                         std::array<std::uint8_t, 4> key = {1, 2, 3, 4}) {
    std::string out;
    out += static_cast<char>(first_byte);
    const std::uint64_t n = payload.size();
    if (n < 126) {
        out += static_cast<char>(0x80 | n);
    } else if (n <= 0xFFFF) {
        out += static_cast<char>(0x80 | 126);
        out += static_cast<char>(n >> 8);
        out += static_cast<char>(n & 0xFF);
    } else {
        out += static_cast<char>(0x80 | 127);
        for (int i = 7; i >= 0; --i) {
            out += static_cast<char>((n >> (8 * i)) & 0xFF);
        }
    }
    out.append(reinterpret_cast<const char*>(key.data()), 4);
    std::string masked = payload;
    for (std::size_t i = 0; i < masked.size(); ++i) {
        masked[i] = static_cast<char>(masked[i] ^ key[i % 4]);
    }
    return out + masked;
}

HeaderResult parse(const std::string& bytes, FrameHeader& h) {
    return parse_client_header(std::span<const char>(bytes.data(), bytes.size()), h);
}

TEST(WebSocketFrame, ParsesAMaskedTextFrameAndUnmasksItsPayload) {
    const std::string frame = client_frame(0x81, "Hello");
    FrameHeader h;
    ASSERT_EQ(parse(frame, h), HeaderResult::ok);
    EXPECT_TRUE(h.fin);
    EXPECT_EQ(h.opcode, Opcode::text);
    EXPECT_EQ(h.length, 5u);
    EXPECT_EQ(h.size, 6u);
    std::string payload = frame.substr(h.size);
    apply_mask(payload.data(), payload.size(), h.mask);
    EXPECT_EQ(payload, "Hello");
}

TEST(WebSocketFrame, EveryPrefixOfAHeaderIsIncomplete) {
    for (std::size_t n : {std::size_t{5}, std::size_t{300}, std::size_t{70000}}) {
        const std::string frame = client_frame(0x82, std::string(n, 'x'));
        FrameHeader h;
        ASSERT_EQ(parse(frame, h), HeaderResult::ok) << n;
        EXPECT_EQ(h.length, n);
        for (std::size_t cut = 0; cut < h.size; ++cut) {
            FrameHeader partial;
            EXPECT_EQ(parse(frame.substr(0, cut), partial), HeaderResult::incomplete)
                << n << " bytes, cut at " << cut;
        }
    }
}

TEST(WebSocketFrame, MaskingIsItsOwnInverseAtEveryLengthAndAlignment) {
    const std::array<std::uint8_t, 4> key{0xA1, 0x02, 0xF3, 0x44};
    for (std::size_t offset = 0; offset < 8; ++offset) {
        for (std::size_t n = 0; n < 40; ++n) {
            std::string original(offset + n, '\0');
            for (std::size_t i = 0; i < original.size(); ++i) {
                original[i] = static_cast<char>(i * 7 + 3);
            }
            std::string data = original;
            apply_mask(data.data() + offset, n, key);
            for (std::size_t i = 0; i < n; ++i) {
                ASSERT_EQ(static_cast<std::uint8_t>(data[offset + i]),
                          static_cast<std::uint8_t>(original[offset + i]) ^ key[i % 4]);
            }
            apply_mask(data.data() + offset, n, key);
            ASSERT_EQ(data, original);
        }
    }
}

TEST(WebSocketFrame, RefusesWhatAServerMustRefuse) {
    FrameHeader h;
    std::string unmasked = client_frame(0x81, "hi");
    unmasked[1] = static_cast<char>(unmasked[1] & 0x7F);
    EXPECT_EQ(parse(unmasked, h), HeaderResult::protocol_error) << "unmasked";
    EXPECT_EQ(parse(client_frame(0xC1, "hi"), h), HeaderResult::protocol_error) << "RSV1";
    EXPECT_EQ(parse(client_frame(0xA1, "hi"), h), HeaderResult::protocol_error) << "RSV2";
    EXPECT_EQ(parse(client_frame(0x91, "hi"), h), HeaderResult::protocol_error) << "RSV3";
    for (std::uint8_t op : {0x3, 0x7, 0xB, 0xF}) {
        EXPECT_EQ(parse(client_frame(0x80 | op, ""), h), HeaderResult::protocol_error)
            << "opcode " << int(op);
    }
    EXPECT_EQ(parse(client_frame(0x09, "p"), h), HeaderResult::protocol_error) << "ping, no FIN";
    EXPECT_EQ(parse(client_frame(0x89, std::string(126, 'p')), h), HeaderResult::protocol_error)
        << "ping of 126 bytes";
    EXPECT_EQ(parse(client_frame(0x89, std::string(125, 'p')), h), HeaderResult::ok);
}

TEST(WebSocketFrame, LengthsMustUseTheShortestForm) {
    FrameHeader h;
    // 100 bytes announced in the 16-bit form.
    std::string frame = {
        static_cast<char>(0x82), static_cast<char>(0x80 | 126), 0, 100, 1, 2, 3, 4};
    EXPECT_EQ(parse(frame, h), HeaderResult::protocol_error);
    // 1000 bytes announced in the 64-bit form.
    frame = {static_cast<char>(0x82),
             static_cast<char>(0x80 | 127),
             0,
             0,
             0,
             0,
             0,
             0,
             3,
             static_cast<char>(0xE8),
             1,
             2,
             3,
             4};
    EXPECT_EQ(parse(frame, h), HeaderResult::protocol_error);
    // The top bit of a 64-bit length must be clear.
    frame = {static_cast<char>(0x82),
             static_cast<char>(0x80 | 127),
             static_cast<char>(0x80),
             0,
             0,
             0,
             0,
             0,
             0,
             0,
             1,
             2,
             3,
             4};
    EXPECT_EQ(parse(frame, h), HeaderResult::protocol_error);
}

TEST(WebSocketFrame, ServerHeadersUseTheShortestLengthForm) {
    std::array<char, max_server_header> out;
    EXPECT_EQ(write_server_header(out, Opcode::text, 125), 2u);
    EXPECT_EQ(static_cast<std::uint8_t>(out[0]), 0x81);
    EXPECT_EQ(static_cast<std::uint8_t>(out[1]), 125);
    EXPECT_EQ(write_server_header(out, Opcode::binary, 126), 4u);
    EXPECT_EQ(static_cast<std::uint8_t>(out[0]), 0x82);
    EXPECT_EQ(static_cast<std::uint8_t>(out[1]), 126);
    EXPECT_EQ(static_cast<std::uint8_t>(out[2]), 0);
    EXPECT_EQ(static_cast<std::uint8_t>(out[3]), 126);
    EXPECT_EQ(write_server_header(out, Opcode::binary, 0x10000), 10u);
    EXPECT_EQ(static_cast<std::uint8_t>(out[1]), 127);
    EXPECT_EQ(static_cast<std::uint8_t>(out[7]), 1);
    EXPECT_EQ(static_cast<std::uint8_t>(out[8]), 0);
}

TEST(WebSocketFrame, CloseCodes) {
    for (std::uint16_t code :
         {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1014, 3000, 4999}) {
        EXPECT_TRUE(is_sendable_close_code(code)) << code;
    }
    for (std::uint16_t code : {0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000}) {
        EXPECT_FALSE(is_sendable_close_code(code)) << code;
    }
}

TEST(WebSocketFrame, ClosePayloads) {
    std::uint16_t code = 0;
    std::string_view reason;
    EXPECT_EQ(parse_close_payload("", code, reason), CloseResult::ok);
    EXPECT_EQ(code, 1005);
    EXPECT_EQ(parse_close_payload("\x0F", code, reason), CloseResult::protocol_error);
    EXPECT_EQ(parse_close_payload(std::string("\x03\xE7", 2), code, reason),
              CloseResult::protocol_error)
        << "999";
    EXPECT_EQ(parse_close_payload("\x0F\xA5"
                                  "bye",
                                  code, reason),
              CloseResult::ok);
    EXPECT_EQ(code, 4005);
    EXPECT_EQ(reason, "bye");
    EXPECT_EQ(parse_close_payload("\x03\xE8\xC3\x28", code, reason), CloseResult::invalid_utf8);

    EXPECT_EQ(make_close_payload(1000, "done"), std::string("\x03\xE8") + "done");
    EXPECT_EQ(make_close_payload(1005, "ignored"), "") << "1005 never goes on the wire";
    EXPECT_EQ(make_close_payload(1000, std::string(200, 'r')).size(), 125u);
}

TEST(WebSocketFrame, AcceptKeyIsTheRfcExample) {
    // RFC 6455 1.3.
    EXPECT_EQ(accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    // Another pair, computed with `printf '%s' KEY+GUID | openssl sha1 -binary | base64`.
    EXPECT_EQ(accept_key("AQIDBAUGBwgJCgsMDQ4PEA=="), "C/0nmHhBztSRGR1CwL6Tf4ZjwpY=");
    EXPECT_EQ(accept_key(std::string(29, 'A')), "") << "longer than any key it is given";
}

TEST(WebSocketFrame, KeysMustBeSixteenBytesOfBase64) {
    EXPECT_TRUE(is_valid_key("dGhlIHNhbXBsZSBub25jZQ=="));
    EXPECT_FALSE(is_valid_key("dGhlIHNhbXBsZSBub25jZQ="));
    EXPECT_FALSE(is_valid_key("dGhlIHNhbXBsZSBub25j!Q=="));
    EXPECT_FALSE(is_valid_key("dGhlIHNhbXBsZSBub25jZQ=A"));
    EXPECT_FALSE(is_valid_key(""));
}

TEST(WebSocketFrame, Utf8) {
    EXPECT_TRUE(is_utf8("plain"));
    EXPECT_TRUE(is_utf8("caf\xC3\xA9"));
    EXPECT_FALSE(is_utf8("\xC3\x28"));
    EXPECT_FALSE(is_utf8("\xED\xA0\x80")) << "a UTF-16 surrogate";
}

TEST(WebSocketFrame, Utf8AroundTheAsciiFastPath) {
    // Up to 256 bytes, all-ASCII text is accepted eight bytes at a time; anything with a
    // high bit goes to the full check, wherever it sits.
    std::string text(16, 'a');
    EXPECT_TRUE(is_utf8(text));
    text[3] = '\xFF';  // inside the first 8-byte word
    EXPECT_FALSE(is_utf8(text));
    text[3] = 'a';
    text[12] = '\xC3';  // a lead byte cut off by what follows
    EXPECT_FALSE(is_utf8(text));
    text.replace(12, 2, "\xC3\xA9");
    EXPECT_TRUE(is_utf8(text)) << "valid two-byte UTF-8 in a word";
    std::string at_limit(256, 'x');
    EXPECT_TRUE(is_utf8(at_limit));
    at_limit[255] = '\x80';
    EXPECT_FALSE(is_utf8(at_limit)) << "a lone continuation byte at the end";
    std::string longer(300, 'x');
    EXPECT_TRUE(is_utf8(longer));
    longer[290] = '\xFE';
    EXPECT_FALSE(is_utf8(longer)) << "past the fast path: simdjson alone";
}

}  // namespace
}  // namespace flamecpp::detail::ws
