// The epoll floor's protocol, shared by the two floors of bench/run (epoll_ref.cpp and
// asio_ref.cpp): canned answers to bodiless GET /plaintext and GET /json with a Date header
// made once a second, a 404 for any other target, and a 400 and a close for anything with a
// body, any other method, or a header block larger than the buffer. No parser beyond finding
// the end of each header block.
#pragma once

#include <cstring>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace canned {

constexpr std::size_t buffer_size = 8192;  // one header block must fit

struct Connection {
    std::vector<char> in = std::vector<char>(buffer_size);
    std::size_t used = 0;
    std::string out;  // what a send(2) did not take; no reading until it is gone
    bool close_after = false;
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

inline bool has_field(std::string_view head, std::string_view lower_name) {
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
            return true;
        }
    }
    return false;
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

}  // namespace canned
