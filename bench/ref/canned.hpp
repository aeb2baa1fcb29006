// The floors' protocol, shared by the two floors of bench/run (epoll_ref.cpp and
// asio_ref.cpp): canned answers to bodiless GET /plaintext and GET /json with a Date header
// made once a second, a 404 for any other target, and a 400 and a close for anything with a
// body, any other method, or a header block larger than the buffer. No parser beyond finding
// the end of each header block. GET /ws with a Sec-WebSocket-Key is the echo: the upgrade,
// then every complete client frame echoed (unmasked, with its FIN and opcode; a ping gets its
// pong, a close its close). Frames must fit the 8 KiB buffer; no extensions, no UTF-8 check.
#pragma once

#include <cstdint>
#include <cstring>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <openssl/evp.h>
#include <openssl/sha.h>

namespace canned {

constexpr std::size_t buffer_size = 8192;  // one header block must fit

struct Connection {
    std::vector<char> in = std::vector<char>(buffer_size);
    std::size_t used = 0;
    std::string out;  // what a send(2) did not take; no reading until it is gone
    bool close_after = false;
    bool websocket = false;  // upgraded: what arrives is frames
};

/// The canned answers, rebuilt when the second (and so the Date header) changes.
class Answers {
public:
    /// `server`: the Server header's value, so that a capture says which floor answered.
    explicit Answers(std::string_view server)
        : server_(server),
          json_body_(boost::json::serialize(boost::json::value{{"message", "Hello, World!"}})) {}

    void refresh(std::time_t now) {
        if (now == second_) {
            return;
        }
        second_ = now;
        std::tm tm{};
        gmtime_r(&now, &tm);
        char date[64];
        std::strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
        plaintext_ = make("200 OK", date, "text/plain", "Hello, World!");
        json_ = make("200 OK", date, "application/json", json_body_);
        not_found_ = make("404 Not Found", date, "text/plain", "Not Found");
        bad_request_ = make("400 Bad Request", date, "text/plain", "Bad Request");
    }

    const std::string& plaintext() const { return plaintext_; }
    const std::string& json() const { return json_; }
    const std::string& not_found() const { return not_found_; }
    const std::string& bad_request() const { return bad_request_; }

private:
    std::string make(const char* status,
                     const char* date,
                     const char* type,
                     std::string_view body) {
        std::string s = "HTTP/1.1 ";
        s += status;
        s += "\r\nServer: ";
        s += server_;
        s += "\r\nDate: ";
        s += date;
        s += "\r\nContent-Type: ";
        s += type;
        s += "\r\nContent-Length: ";
        s += std::to_string(body.size());
        s += "\r\n\r\n";
        s += body;
        return s;
    }

    std::string server_;
    std::string json_body_;
    std::time_t second_ = -1;
    std::string plaintext_, json_, not_found_, bad_request_;
};

/// The rest of the line of the field `lower_name` ("content-length:", in lower case) in `head`,
/// up to its CR; nullopt when no line starts with that name (compared without case).
inline std::optional<std::string_view> find_field(std::string_view head,
                                                  std::string_view lower_name) {
    for (std::size_t at = head.find('\n'); at != std::string_view::npos;
         at = head.find('\n', at + 1)) {
        std::string_view line = head.substr(at + 1);
        if (line.size() < lower_name.size()) {
            continue;
        }
        bool same = true;
        for (std::size_t i = 0; i < lower_name.size() && same; ++i) {
            char c = line[i];
            same = (c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c) == lower_name[i];
        }
        if (same) {
            return line.substr(lower_name.size(), line.find('\r') - lower_name.size());
        }
    }
    return std::nullopt;
}

inline bool has_field(std::string_view head, std::string_view lower_name) {
    return find_field(head, lower_name).has_value();
}

/// Appends the answers to every complete request in `c.in` to `out`, and drops those requests
/// from `c.in`. A refused request sets `c.close_after`: the connection closes once `out` is sent.
inline void answer(Connection& c, const Answers& answers, std::string& out) {
    std::string_view data(c.in.data(), c.used);
    std::size_t done = 0;
    for (;;) {
        std::size_t end = data.find("\r\n\r\n", done);
        if (end == std::string_view::npos) {
            break;
        }
        std::string_view head = data.substr(done, end + 2 - done);
        done = end + 4;
        const bool get = head.starts_with("GET ");
        if (!get || has_field(head, "content-length:") || has_field(head, "transfer-encoding:")) {
            out += answers.bad_request();  // a body this server would not read
            c.close_after = true;
            break;
        }
        std::string_view target = head.substr(4, head.find(' ', 4) - 4);
        if (target == "/plaintext") {
            out += answers.plaintext();
        } else if (target == "/json") {
            out += answers.json();
        } else {
            out += answers.not_found();
        }
    }
    if (done > 0) {
        std::memmove(c.in.data(), c.in.data() + done, c.used - done);
        c.used -= done;
    }
    if (!c.close_after && c.used == c.in.size()) {
        out += answers.bad_request();  // a header block larger than the buffer
        c.close_after = true;
    }
}

/// The value of the field `lower_name` ("sec-websocket-key:") in `head`, trimmed; empty if none.
inline std::string_view field_value(std::string_view head, std::string_view lower_name) {
    std::string_view value = find_field(head, lower_name).value_or(std::string_view());
    while (!value.empty() && value.front() == ' ') {
        value.remove_prefix(1);
    }
    return value;
}

/// A complete `GET /ws` head at the start of `c.in`: answered with 101 (or a 400 and a close
/// without a key) and consumed. False: not an upgrade, or its head is not all in yet.
inline bool upgrade(Connection& c, std::string& out) {
    std::string_view data(c.in.data(), c.used);
    if (!data.starts_with("GET /ws ")) {
        return false;
    }
    const std::size_t end = data.find("\r\n\r\n");
    if (end == std::string_view::npos) {
        return false;
    }
    const std::string_view key = field_value(data.substr(0, end + 2), "sec-websocket-key:");
    if (key.empty() || key.size() > 64) {
        out += "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
        c.close_after = true;
        return true;
    }
    std::string both(key);
    both += "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";  // RFC 6455 4.2.2
    unsigned char digest[SHA_DIGEST_LENGTH];
    SHA1(reinterpret_cast<const unsigned char*>(both.data()), both.size(), digest);
    unsigned char accept[4 * ((SHA_DIGEST_LENGTH + 2) / 3) + 1];
    EVP_EncodeBlock(accept, digest, SHA_DIGEST_LENGTH);
    out +=
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Accept: ";
    out += reinterpret_cast<const char*>(accept);
    out += "\r\n\r\n";
    const std::size_t done = end + 4;
    std::memmove(c.in.data(), c.in.data() + done, c.used - done);
    c.used -= done;
    c.websocket = true;
    return true;
}

/// Echoes every complete frame in `c.in` into `out` and drops them from `c.in`. An unmasked
/// frame, or one larger than the buffer, closes the connection (after a close frame).
inline void echo(Connection& c, std::string& out) {
    const auto* in = reinterpret_cast<const unsigned char*>(c.in.data());
    std::size_t done = 0;
    while (!c.close_after && c.used - done >= 2) {
        const unsigned char* f = in + done;
        const std::size_t avail = c.used - done;
        const unsigned opcode = f[0] & 0x0fU;
        const bool masked = (f[1] & 0x80U) != 0;
        std::uint64_t length = f[1] & 0x7fU;
        std::size_t head = 2;
        if (length == 126) {
            head = 4;
        } else if (length == 127) {
            head = 10;
        }
        if (avail < head + 4) {
            break;
        }
        if (head == 4) {
            length = (std::uint64_t(f[2]) << 8) | f[3];
        } else if (head == 10) {
            length = 0;
            for (int i = 2; i < 10; ++i) {
                length = (length << 8) | f[i];
            }
        }
        if (!masked || length > c.in.size() - head - 4) {
            out += std::string_view("\x88\x02\x03\xea", 4);  // close 1002
            c.close_after = true;
            break;
        }
        if (avail < head + 4 + length) {
            break;
        }
        const unsigned char* mask = f + head;
        const unsigned char* payload = mask + 4;
        if (opcode == 0xa) {
            done += head + 4 + length;  // a pong: nothing to answer
            continue;
        }
        const unsigned reply = opcode == 0x9 ? 0xaU : opcode;  // a ping's pong
        out += char((f[0] & 0x80U) | reply);  // FIN as it came: fragments stay fragments
        if (length < 126) {
            out += char(length);
        } else if (length < 65536) {
            out += char(126);
            out += char(length >> 8);
            out += char(length & 0xffU);
        } else {
            out += char(127);
            for (int shift = 56; shift >= 0; shift -= 8) {
                out += char((length >> shift) & 0xffU);
            }
        }
        const std::size_t at = out.size();
        out.append(payload, payload + length);
        for (std::size_t i = 0; i < length; ++i) {
            out[at + i] = char(out[at + i] ^ char(mask[i & 3]));
        }
        if (opcode == 0x8) {
            c.close_after = true;  // the close echoed: done
        }
        done += head + 4 + length;
    }
    std::memmove(c.in.data(), c.in.data() + done, c.used - done);
    c.used -= done;
}

/// Answers what `c.in` holds: frames once upgraded, else the upgrade of a `GET /ws`, else
/// requests.
inline void respond(Connection& c, const Answers& answers, std::string& out) {
    if (c.websocket) {
        echo(c, out);
    } else if (upgrade(c, out)) {
        if (c.websocket) {
            echo(c, out);  // frames sent right after the head
        }
    } else {
        answer(c, answers, out);
    }
}

}  // namespace canned
