#include "routing/router.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>
#include <stdexcept>

#include "text/percent.hpp"

namespace flamecpp::detail {
namespace {

[[noreturn]] void fail(std::string_view pattern, const std::string& what) {
    throw std::invalid_argument("flamecpp: route '" + std::string(pattern) + "': " + what);
}

bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || (c >= '0' && c <= '9'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

Convertor parse_convertor(std::string_view pattern, std::string_view text) {
    if (const std::optional<Convertor> found = find_convertor(text)) {
        return *found;
    }
    std::string accepted;
    for (const ConvertorEntry& entry : convertors) {
        accepted += accepted.empty() ? "" : ", ";
        accepted += entry.name;
    }
    fail(pattern, "unknown convertor '" + std::string(text) + "' (accepted: " + accepted + ")");
}

bool spans_slashes(const Segment& s) {
    return s.is_param && convertor_entry(s.convertor).spans_slashes;
}

/// True when `text` is accepted by `matcher` (for every matcher but `anything`: one segment).
bool matches(Matcher matcher, std::string_view text) noexcept {
    switch (matcher) {
        case Matcher::nonempty:
            return !text.empty();
        case Matcher::anything:
            return true;
        case Matcher::digits:
            return !text.empty() && std::all_of(text.begin(), text.end(), is_digit);
        case Matcher::decimal: {
            auto dot = text.find('.');
            auto whole = text.substr(0, dot);
            if (whole.empty() || !std::all_of(whole.begin(), whole.end(), is_digit)) {
                return false;
            }
            if (dot == std::string_view::npos) {
                return true;
            }
            auto frac = text.substr(dot + 1);
            return !frac.empty() && std::all_of(frac.begin(), frac.end(), is_digit);
        }
        case Matcher::uuid: {
            // 8-4-4-4-12 hex digits (RFC 9562 4); either case.
            if (text.size() != 36) {
                return false;
            }
            for (std::size_t i = 0; i < text.size(); ++i) {
                bool dash = i == 8 || i == 13 || i == 18 || i == 23;
                if (dash ? text[i] != '-' : !is_hex(text[i])) {
                    return false;
                }
            }
            return true;
        }
    }
    return false;
}

/// True when every text `narrow` accepts, `wide` accepts too.
bool includes(Matcher wide, Matcher narrow) {
    if (wide == narrow) {
        return true;
    }
    switch (wide) {
        case Matcher::anything:
            return true;
        case Matcher::nonempty:
            return narrow != Matcher::anything;
        case Matcher::decimal:
            return narrow == Matcher::digits;
        case Matcher::digits:
        case Matcher::uuid:
            return false;
    }
    return false;
}

/// True when a parameter of the handler that needs `need` fits a convertor of `values`.
bool fits(const PathRequirement& need, PathValues values) {
    switch (values) {
        case PathValues::integers:
            return need.accepts_int;
        case PathValues::floating:
            return need.accepts_float;
        case PathValues::text:
            return need.accepts_text;
    }
    return false;
}

/// Splits "/a/b/" into {"a", "b", ""}; "/" gives {""}.
void split_segments(std::string_view path, std::vector<std::string_view>& out) {
    out.clear();
    path.remove_prefix(1);
    for (;;) {
        auto slash = path.find('/');
        out.push_back(path.substr(0, slash));
        if (slash == std::string_view::npos) {
            return;
        }
        path.remove_prefix(slash + 1);
    }
}

/// True when `route`'s template matches the path split into `scratch` (from `raw_path`);
/// fills `params`. `segments_end`: where the decoded segments end in scratch.decoded.
bool segments_match(const Route& route,
                    std::string_view raw_path,
                    MatchScratch& scratch,
                    std::size_t segments_end,
                    std::vector<PathParam>& params) {
    const auto& segs = scratch.segments;
    params.clear();
    std::size_t i = 0;
    for (; i < route.segments.size(); ++i) {
        const Segment& seg = route.segments[i];
        if (spans_slashes(seg)) {
            if (i >= segs.size()) {
                return false;
            }
            // The rest of the raw path, decoded as a whole (it may hold '/').
            auto offset =
                static_cast<std::size_t>(scratch.raw_segments[i].data() - raw_path.data());
            std::string_view rest = raw_path.substr(offset);
            if (rest.find('%') != std::string_view::npos) {
                scratch.decoded.resize(segments_end);  // drop an earlier route's remainder
                auto start = scratch.decoded.size();
                percent_decode_append(rest, scratch.decoded);
                rest = std::string_view(scratch.decoded).substr(start);
            }
            params.push_back(PathParam{seg.text, rest});
            return true;
        }
        if (i >= segs.size()) {
            return false;
        }
        if (!seg.is_param) {
            if (seg.text != segs[i]) {
                return false;
            }
        } else if (convertor_accepts(seg.convertor, segs[i])) {
            params.push_back(PathParam{seg.text, segs[i]});
        } else {
            return false;
        }
    }
    return i == segs.size();
}

/// Splits `raw_path` into `scratch`, each segment decoded; false for an undecodable one.
bool split_path(std::string_view raw_path, MatchScratch& scratch) {
    // Split first, decode each segment after: "/units/kg%2Fs" is one segment "kg/s".
    split_segments(raw_path, scratch.raw_segments);
    scratch.decoded.clear();
    // Decoding never grows a string, so twice the raw size holds the segments and one decoded
    // path remainder without reallocating: the views stay valid.
    scratch.decoded.reserve(2 * raw_path.size());
    scratch.segments.clear();
    for (auto raw : scratch.raw_segments) {
        if (raw.find('%') == std::string_view::npos) {
            scratch.segments.push_back(raw);
            continue;
        }
        auto start = scratch.decoded.size();
        if (!percent_decode_append(raw, scratch.decoded)) {
            return false;
        }
        scratch.segments.push_back(std::string_view(scratch.decoded).substr(start));
    }
    return true;
}

/// A path's hash for the literal table: its length and its first and last 8 bytes, mixed.
/// Cheap for the short paths of routes; paths alike there only probe one slot further.
std::size_t path_hash(std::string_view path) noexcept {
    std::uint64_t head = 0;
    std::uint64_t tail = 0;
    if (path.size() >= 8) {
        std::memcpy(&head, path.data(), 8);
        std::memcpy(&tail, path.data() + path.size() - 8, 8);
    } else {
        std::memcpy(&head, path.data(), path.size());
    }
    std::uint64_t h = (head ^ (tail * 0x9E3779B97F4A7C15ULL) ^ path.size()) * 0xFF51AFD7ED558CCDULL;
    return static_cast<std::size_t>(h ^ (h >> 32));
}

/// The one path a template of literal segments matches, if it is one.
std::optional<std::string> literal_path(const std::vector<Segment>& segments) {
    std::string path;
    for (const Segment& seg : segments) {
        if (seg.is_param) {
            return std::nullopt;
        }
        path += '/';
        path += seg.text;
    }
    return path;
}

/// True when every segment `b` accepts is also accepted by `a` (path convertors aside).
bool covers(const Segment& a, const Segment& b) {
    if (!a.is_param) {
        return !b.is_param && a.text == b.text;
    }
    if (spans_slashes(b)) {
        return false;
    }
    if (!b.is_param) {
        return convertor_accepts(a.convertor, b.text);
    }
    return includes(convertor_entry(a.convertor).matcher, convertor_entry(b.convertor).matcher);
}

/// True when route `a` matches every path that route `b` matches.
bool shadows(const std::vector<Segment>& a, const std::vector<Segment>& b) {
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (spans_slashes(a[i])) {
            return b.size() > i;
        }
        if (i >= b.size() || !covers(a[i], b[i])) {
            return false;
        }
    }
    return a.size() == b.size();
}

}  // namespace

bool convertor_accepts(Convertor convertor, std::string_view text) noexcept {
    return matches(convertor_entry(convertor).matcher, text);
}

std::vector<Segment> compile_template(std::string_view pattern) {
    if (pattern.empty() || pattern.front() != '/') {
        fail(pattern, "a route template must start with '/'");
    }
    if (pattern.find_first_of("?#") != std::string_view::npos) {
        fail(pattern, "a route template is a path: no '?' or '#'");
    }
    std::vector<std::string_view> raw;
    split_segments(pattern, raw);
    std::vector<Segment> segments;
    for (std::size_t i = 0; i < raw.size(); ++i) {
        std::string_view text = raw[i];
        auto open = text.find('{');
        auto close = text.find('}');
        if (open == std::string_view::npos && close == std::string_view::npos) {
            segments.push_back(Segment{false, std::string(text), default_convertor});
            continue;
        }
        if (open != 0 || close != text.size() - 1 ||
            text.find_first_of("{}", 1) != text.size() - 1) {
            fail(pattern, "segment '" + std::string(text) +
                              "': a parameter fills a whole segment, as in '/{name}' or "
                              "'/{name:int}'");
        }
        std::string_view inner = text.substr(1, text.size() - 2);
        auto colon = inner.find(':');
        std::string_view name = inner.substr(0, colon);
        Convertor convertor = colon == std::string_view::npos
                                  ? default_convertor
                                  : parse_convertor(pattern, inner.substr(colon + 1));
        if (name.empty() || !is_name_start(name.front()) ||
            !std::all_of(name.begin(), name.end(), is_name_char)) {
            fail(pattern, "parameter name '" + std::string(name) +
                              "' must be an identifier ([A-Za-z_][A-Za-z0-9_]*)");
        }
        for (const auto& s : segments) {
            if (s.is_param && s.text == name) {
                fail(pattern, "parameter '" + std::string(name) + "' appears twice");
            }
        }
        Segment segment{true, std::string(name), convertor};
        if (spans_slashes(segment) && i + 1 != raw.size()) {
            fail(pattern, "'{" + segment.text + ":" + std::string(convertor_entry(convertor).name) +
                              "}' takes the rest of the path, so it must be last");
        }
        segments.push_back(std::move(segment));
    }
    return segments;
}

Response unrouted_answer(const MatchResult& match, Method method, bool upgrade) {
    switch (match.status) {
        case MatchStatus::bad_path:
            return Response::text("Bad Request", Status::bad_request);
        case MatchStatus::not_found:
            if (match.other_kind && !upgrade) {
                // RFC 9110 15.5.22: only a WebSocket lives here; say how to reach it.
                return Response::text("Upgrade Required: this is a WebSocket endpoint",
                                      Status::upgrade_required)
                    .with_header("Upgrade", "websocket");
            }
            return Response::text("Not Found", Status::not_found);
        case MatchStatus::method_not_allowed: {
            Response response =
                method == Method::options
                    ? Response::empty(Status::no_content)
                    : Response::text("Method Not Allowed", Status::method_not_allowed);
            response.with_header("Allow", match.allow.allow_header());
            return response;
        }
        case MatchStatus::found:
            break;
    }
    return Response{};
}

std::vector<ComponentRequirement> components_of(Requirements requirements) {
    std::vector<ComponentRequirement> out;
    for (const auto& requirement : requirements) {
        if (requirement.kind == Requirement::Kind::component) {
            out.push_back(
                ComponentRequirement{requirement.component_id(), requirement.component_type});
        }
    }
    return out;
}

Route& Router::add(std::string_view pattern,
                   MethodSet methods,
                   std::unique_ptr<RouteHandler> handler,
                   Requirements requirements) {
    if (methods.empty()) {
        fail(pattern, "no methods given");
    }
    if (methods.contains(Method::get)) {
        methods.insert(Method::head);  // HEAD is served by GET (RFC 9110 9.3.2)
    }
    auto route = std::make_unique<Route>();
    route->pattern = std::string(pattern);
    route->methods = methods;
    route->reads_body = handler->reads_body();
    route->handler = std::move(handler);
    return add_route(std::move(route), requirements);
}

Route& Router::add_websocket(std::string_view pattern,
                             std::unique_ptr<WebSocketHandler> handler,
                             Requirements requirements) {
    auto route = std::make_unique<Route>();
    route->pattern = std::string(pattern);
    route->methods = MethodSet{Method::get};  // RFC 6455 4.1: the handshake is a GET
    route->websocket = std::move(handler);
    return add_route(std::move(route), requirements);
}

void Router::add_mount(std::string prefix, const Mount* mount) {
    mounts_.emplace_back(std::move(prefix), mount);
}

const Mount* Router::mount_for(std::string_view raw_path) const noexcept {
    const Mount* best = nullptr;
    std::size_t best_size = 0;
    for (const auto& [prefix, mount] : mounts_) {
        if (raw_path.starts_with(prefix) &&
            (raw_path.size() == prefix.size() || raw_path[prefix.size()] == '/') &&
            prefix.size() > best_size) {
            best = mount;
            best_size = prefix.size();
        }
    }
    return best;
}

Route& Router::add_route(std::unique_ptr<Route> route, Requirements requirements) {
    const std::string& pattern = route->pattern;
    route->segments = compile_template(pattern);
    const auto& segments = route->segments;
    route->components = components_of(requirements);
    for (const auto& requirement : requirements) {
        if (requirement.kind != Requirement::Kind::path) {
            continue;
        }
        const PathRequirement& need = requirement.path;
        auto it = std::find_if(segments.begin(), segments.end(),
                               [&](const Segment& s) { return s.is_param && s.text == need.name; });
        if (it == segments.end()) {
            std::string names;
            for (const auto& s : segments) {
                if (s.is_param) {
                    names += names.empty() ? "" : ", ";
                    names += s.text;
                }
            }
            fail(pattern, "the handler takes Path<\"" + std::string(need.name) +
                              "\"> but the template has no such parameter (it has: " +
                              (names.empty() ? std::string("none") : names) + ")");
        }
        const ConvertorEntry& convertor = convertor_entry(it->convertor);
        if (!fits(need, convertor.values)) {
            fail(pattern, "the handler wants Path<\"" + std::string(need.name) + "\"> as " +
                              std::string(need.type_hint) + " but the template declares '{" +
                              it->text + ":" + std::string(convertor.name) + "}'");
        }
    }
    for (const auto& earlier : routes_) {
        if (earlier->kind() == route->kind() && shadows(earlier->segments, segments) &&
            earlier->methods.includes(route->methods)) {
            fail(pattern, "can never match: route '" + earlier->pattern +
                              "', registered earlier, matches every path it does for the "
                              "same methods");
        }
    }
    routes_.push_back(std::move(route));
    index_literal(*routes_.back());
    return *routes_.back();
}

void Router::index_literal(const Route& route) {
    std::optional<std::string> path = literal_path(route.segments);
    // Only a path whose raw form is itself, and only the first route to match it: match()
    // takes the first route in order, so an earlier one (a parameter's, another method's)
    // must leave the path to the scan.
    if (!path || path->find('%') != std::string::npos || find_literal(*path) != nullptr) {
        return;
    }
    MatchScratch scratch;
    std::vector<PathParam> params;
    if (!split_path(*path, scratch)) {
        return;
    }
    const auto segments_end = scratch.decoded.size();
    for (const auto& earlier : routes_) {
        if (earlier.get() == &route) {
            break;
        }
        if (segments_match(*earlier, *path, scratch, segments_end, params)) {
            return;
        }
    }
    if (2 * (literal_count_ + 1) > literal_slots_.size()) {
        std::vector<LiteralSlot> old(std::max<std::size_t>(16, 2 * literal_slots_.size()));
        old.swap(literal_slots_);
        for (LiteralSlot& slot : old) {
            if (slot.route != nullptr) {
                place_literal(literal_slots_, std::move(slot));
            }
        }
    }
    place_literal(literal_slots_, LiteralSlot{std::move(*path), &route});
    ++literal_count_;
}

void Router::place_literal(std::vector<LiteralSlot>& slots, LiteralSlot slot) {
    const std::size_t mask = slots.size() - 1;
    std::size_t i = path_hash(slot.path) & mask;
    while (slots[i].route != nullptr) {
        i = (i + 1) & mask;
    }
    slots[i] = std::move(slot);
}

const Route* Router::find_literal(std::string_view raw_path) const noexcept {
    if (literal_slots_.empty()) {
        return nullptr;
    }
    const std::size_t mask = literal_slots_.size() - 1;
    for (std::size_t i = path_hash(raw_path) & mask;; i = (i + 1) & mask) {
        const LiteralSlot& slot = literal_slots_[i];
        if (slot.route == nullptr) {
            return nullptr;
        }
        if (slot.path == raw_path) {
            return slot.route;
        }
    }
}

MatchResult Router::match(Method method,
                          std::string_view raw_path,
                          MatchScratch& scratch,
                          std::vector<PathParam>& params,
                          RouteKind kind) const {
    MatchResult result;
    if (raw_path.empty() || raw_path.front() != '/') {
        result.status = MatchStatus::bad_path;
        return result;
    }
    // A literal path that no earlier route matches is found without a scan.
    if (literal_count_ != 0 && raw_path.find('%') == std::string_view::npos) {
        if (const Route* route = find_literal(raw_path)) {
            if (route->kind() == kind && route->methods.contains(method)) {
                params.clear();
                result.status = MatchStatus::found;
                result.route = route;
                result.allow = route->methods;
                return result;
            }
        }
    }
    if (!split_path(raw_path, scratch)) {
        result.status = MatchStatus::bad_path;
        return result;
    }
    const auto segments_end = scratch.decoded.size();
    for (const auto& route : routes_) {
        if (!segments_match(*route, raw_path, scratch, segments_end, params)) {
            continue;
        }
        if (route->kind() != kind) {
            result.other_kind = true;
            continue;
        }
        if (route->methods.contains(method)) {
            result.status = MatchStatus::found;
            result.route = route.get();
            result.allow = route->methods;
            return result;
        }
        result.status = MatchStatus::method_not_allowed;
        result.allow = result.allow | route->methods;
    }
    params.clear();
    return result;
}

}  // namespace flamecpp::detail
