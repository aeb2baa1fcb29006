// The checks behind flamecpp::Rules: numbers, text (length in code points, pattern) and counts.
#include "app/rules.hpp"

#include <charconv>
#include <cmath>
#include <memory>
#include <stdexcept>
#include <string>
#include <unordered_map>

#include <boost/regex.hpp>

#include <flamecpp/http_exception.hpp>

namespace flamecpp::detail {

namespace {

[[noreturn]] void fail(const char* kind, std::string_view name, const std::string& problem) {
    throw HTTPException(Status::bad_request,
                        std::string(kind) + " '" + std::string(name) + "' " + problem);
}

std::string number_text(double value) {
    char buffer[32];
    auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
    return std::string(buffer, ec == std::errc{} ? end : buffer);
}

/// Code points in UTF-8 text (bytes that do not continue a sequence), as JSON Schema counts.
std::size_t code_points(std::string_view text) noexcept {
    std::size_t n = 0;
    for (unsigned char c : text) {
        n += (c & 0xC0) != 0x80;
    }
    return n;
}

boost::regex compile(std::string_view pattern) {
    return boost::regex(pattern.begin(), pattern.end(), boost::regex::ECMAScript);
}

/// Compiled patterns of this thread, by the address of their text (a Rules object in static
/// storage): compiled on first use, then a lookup.
const boost::regex& compiled(const Pattern& pattern) {
    thread_local std::unordered_map<const char*, std::unique_ptr<boost::regex>> cache;
    auto& slot = cache[pattern.text];
    if (!slot) {
        slot = std::make_unique<boost::regex>(compile(pattern.view()));
    }
    return *slot;
}

}  // namespace

void check_number_rules(const Rules& rules, double value, const char* kind, std::string_view name) {
    if (value < rules.minimum) {
        fail(kind, name, "must be at least " + number_text(rules.minimum));
    }
    if (value > rules.maximum) {
        fail(kind, name, "must be at most " + number_text(rules.maximum));
    }
    if (!(value > rules.exclusive_minimum)) {
        fail(kind, name, "must be greater than " + number_text(rules.exclusive_minimum));
    }
    if (!(value < rules.exclusive_maximum)) {
        fail(kind, name, "must be less than " + number_text(rules.exclusive_maximum));
    }
}

void check_text_rules(const Rules& rules,
                      std::string_view value,
                      const char* kind,
                      std::string_view name) {
    if (rules.min_length != 0 || rules.max_length != Rules::no_limit) {
        const std::size_t length = code_points(value);
        if (length < rules.min_length) {
            fail(kind, name,
                 rules.min_length == 1
                     ? std::string("must not be empty")
                     : "must be at least " + std::to_string(rules.min_length) + " characters long");
        }
        if (length > rules.max_length) {
            fail(kind, name,
                 "must be at most " + std::to_string(rules.max_length) + " characters long");
        }
    }
    if (!rules.pattern.empty()) {
        bool matched = false;
        try {
            matched = boost::regex_search(value.begin(), value.end(), compiled(rules.pattern));
        } catch (const std::runtime_error&) {
            matched = false;  // too complex to decide (Boost.Regex's limit): not a match
        }
        if (!matched) {
            fail(kind, name, "must match the pattern " + std::string(rules.pattern.view()));
        }
    }
}

void check_count_rules(const Rules& rules,
                       std::size_t count,
                       const char* kind,
                       std::string_view name) {
    if (count < rules.min_items) {
        fail(kind, name,
             "must have at least " + std::to_string(rules.min_items) +
                 (rules.min_items == 1 ? " item" : " items"));
    }
    if (count > rules.max_items) {
        fail(kind, name,
             "must have at most " + std::to_string(rules.max_items) +
                 (rules.max_items == 1 ? " item" : " items"));
    }
}

std::string pattern_error(const Pattern& pattern) {
    try {
        compile(pattern.view());
        return {};
    } catch (const boost::regex_error& e) {
        return e.what();
    }
}

}  // namespace flamecpp::detail
