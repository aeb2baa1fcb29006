// The OpenAPI 3.1 document, made from the route table and the constant records the handlers'
// types left there (detail/doc.hpp), and the routes that serve it.
#include "app/openapi.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <flamecpp/body.hpp>
#include <flamecpp/openapi.hpp>
#include <flamecpp/static_files.hpp>

#include "app/app_impl.hpp"
#include "app/rules.hpp"

namespace flamecpp {
namespace detail {

namespace {

namespace json = boost::json;

/// A component name (`^[A-Za-z0-9._-]+$`) from a C++ name: `Page<app::Todo>` ->
/// `Page_app_Todo`.
std::string sanitize(std::string_view text) {
    std::string out;
    for (char c : text) {
        const bool ok =
            std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '-' || c == '_';
        if (ok) {
            out += c;
        } else if (!out.empty() && out.back() != '_') {
            out += '_';
        }
    }
    while (!out.empty() && out.back() == '_') {
        out.pop_back();
    }
    return out.empty() ? std::string("Object") : out;
}

/// The name without its namespaces (outside template arguments): `app::Todo` -> `Todo`.
std::string_view unqualified(std::string_view name) {
    int depth = 0;
    std::size_t start = 0;
    for (std::size_t i = 0; i < name.size(); ++i) {
        if (name[i] == '<') {
            ++depth;
        } else if (name[i] == '>') {
            --depth;
        } else if (depth == 0 && name[i] == ':' && i + 1 < name.size() && name[i + 1] == ':') {
            start = i + 2;
        }
    }
    return name.substr(start);
}

/// Builds schemas, registering described structs and enums in components/schemas.
class SchemaBuilder {
public:
    json::value schema(TypeDocFn fn) { return schema_of(fn()); }

    /// The schema of a value of `type` with `rules` applied (to the items of an array for
    /// bounds and lengths, to the array for counts; through optionals).
    json::value with_rules(TypeDocFn fn, const Rules* rules) {
        json::value out = schema(fn);
        if (rules != nullptr && !rules->empty()) {
            apply(fn(), *rules, out);
        }
        return out;
    }

    json::object take_components() { return std::move(components_); }

private:
    json::value schema_of(const TypeDoc& doc) {
        using K = TypeDoc::Kind;
        switch (doc.kind) {
            case K::any:
                return json::object{};
            case K::boolean:
                return json::object{{"type", "boolean"}};
            case K::integer: {
                json::object o{{"type", "integer"}, {"format", doc.format}};
                if (doc.minimum != -Rules::unbounded) {
                    o["minimum"] = static_cast<std::int64_t>(doc.minimum);
                }
                if (doc.maximum != Rules::unbounded) {
                    o["maximum"] = static_cast<std::int64_t>(doc.maximum);
                }
                return o;
            }
            case K::number:
                return json::object{{"type", "number"}, {"format", doc.format}};
            case K::string:
                return json::object{{"type", "string"}};
            case K::binary:
                return json::object{{"type", "string"}, {"format", "binary"}};
            case K::array:
                return json::object{{"type", "array"}, {"items", schema(doc.item)}};
            case K::map:
                return json::object{{"type", "object"}, {"additionalProperties", schema(doc.item)}};
            case K::object:
                return json::object{{"type", "object"}};
            case K::json_array:
                return json::object{{"type", "array"}};
            case K::optional:
                return nullable(schema(doc.item));
            case K::structure:
            case K::enumeration:
                return json::object{{"$ref", "#/components/schemas/" + component(doc)}};
        }
        return json::object{};
    }

    /// `schema` or null: `type: [T, "null"]` for a plain type, `anyOf` otherwise.
    static json::value nullable(json::value schema) {
        auto& o = schema.as_object();
        const json::object null_type{{"type", "null"}};
        if (const auto* type = o.if_contains("type"); type != nullptr && type->is_array()) {
            return schema;  // already T or null (an optional Nullable)
        }
        if (const auto* any = o.if_contains("anyOf");
            any != nullptr && any->is_array() && any->as_array().back() == null_type) {
            return schema;
        }
        if (auto* type = o.if_contains("type");
            type != nullptr && type->is_string() && !o.contains("$ref") && !o.contains("enum")) {
            json::string name = type->as_string();
            *type = json::array{name, "null"};
            return schema;
        }
        return json::object{{"anyOf", json::array{std::move(schema), null_type}}};
    }

    /// Writes `rules` into `out`, the schema of `doc`.
    void apply(const TypeDoc& doc, const Rules& rules, json::value& out) {
        using K = TypeDoc::Kind;
        if (doc.kind == K::optional) {
            auto& o = out.as_object();
            if (auto* any = o.if_contains("anyOf")) {
                apply(doc.item(), rules, any->as_array()[0]);
            } else {
                apply(doc.item(), rules, out);
            }
            return;
        }
        auto& o = out.as_object();
        if (doc.kind == K::array) {
            if (rules.min_items != 0) {
                o["minItems"] = rules.min_items;
            }
            if (rules.max_items != Rules::no_limit) {
                o["maxItems"] = rules.max_items;
            }
            Rules items = rules;
            items.min_items = 0;
            items.max_items = Rules::no_limit;
            if (!items.empty()) {
                apply(doc.item(), items, o["items"]);
            }
            return;
        }
        auto number = [](double v) -> json::value {
            constexpr double exact = 9007199254740992.0;  // 2^53: integers up to it are exact
            if (v > -exact && v < exact && v == std::trunc(v)) {
                return static_cast<std::int64_t>(v);
            }
            return v;
        };
        if (rules.minimum != -Rules::unbounded) {
            o["minimum"] = number(rules.minimum);
        }
        if (rules.maximum != Rules::unbounded) {
            o["maximum"] = number(rules.maximum);
        }
        if (rules.exclusive_minimum != -Rules::unbounded) {
            o["exclusiveMinimum"] = number(rules.exclusive_minimum);
        }
        if (rules.exclusive_maximum != Rules::unbounded) {
            o["exclusiveMaximum"] = number(rules.exclusive_maximum);
        }
        if (rules.min_length != 0) {
            o["minLength"] = rules.min_length;
        }
        if (rules.max_length != Rules::no_limit) {
            o["maxLength"] = rules.max_length;
        }
        if (!rules.pattern.empty()) {
            o["pattern"] = rules.pattern.view();
        }
    }

    /// The component name of a struct or enum, registered (with its schema) on first use.
    std::string component(const TypeDoc& doc) {
        if (auto it = names_.find(&doc); it != names_.end()) {
            return it->second;
        }
        std::string name = sanitize(unqualified(doc.name));
        if (components_.contains(name)) {
            name = sanitize(doc.name);  // another type has the short name: qualify this one
            for (int n = 2; components_.contains(name); ++n) {
                name = sanitize(doc.name) + "_" + std::to_string(n);
            }
        }
        names_.emplace(&doc, name);
        components_[name] = nullptr;  // reserved: a recursive type refers to itself by $ref
        json::object schema{{"title", std::string(unqualified(doc.name))}};
        if (doc.kind == TypeDoc::Kind::enumeration) {
            schema["type"] = "string";
            json::array values;
            for (auto e : doc.enumerators) {
                values.emplace_back(e);
            }
            schema["enum"] = std::move(values);
        } else {
            schema["type"] = "object";
            json::object properties;
            json::array required;
            for (const FieldDoc& field : doc.fields) {
                properties[field.name] = with_rules(field.type, field.rules);
                if (field.required) {
                    required.emplace_back(field.name);
                }
            }
            schema["properties"] = std::move(properties);
            if (!required.empty()) {
                schema["required"] = std::move(required);
            }
        }
        components_[name] = std::move(schema);
        return name;
    }

    json::object components_;
    std::map<const TypeDoc*, std::string> names_;
};

std::string lower(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

/// `/todos/{id}` from the compiled template (OpenAPI paths name parameters without convertors).
std::string openapi_path(const Route& route) {
    if (route.segments.empty()) {
        return "/";
    }
    std::string out;
    for (const Segment& segment : route.segments) {
        out += '/';
        out += segment.is_param ? "{" + segment.text + "}" : segment.text;
    }
    if (route.pattern.size() > 1 && route.pattern.back() == '/') {
        out += '/';
    }
    return out;
}

/// The schema of a path parameter the handler does not take, from its convertor.
json::value convertor_schema(Convertor convertor) {
    switch (convertor) {
        case Convertor::int_:
            return json::object{{"type", "integer"}, {"minimum", 0}};
        case Convertor::float_:
            return json::object{{"type", "number"}, {"minimum", 0}};
        case Convertor::uuid:
            return json::object{{"type", "string"}, {"format", "uuid"}};
        default:
            return json::object{{"type", "string"}};
    }
}

json::value default_value(const DefaultArg& d) {
    using K = DefaultArg::Kind;
    switch (d.kind) {
        case K::integer:
            return d.integer;
        case K::floating:
            return d.floating;
        case K::boolean:
            return d.boolean;
        case K::text:
            return json::string(std::string_view(d.text, d.size));
        case K::none:
            break;
    }
    return nullptr;
}

const char* location(ParamDoc::In in) {
    switch (in) {
        case ParamDoc::In::path:
            return "path";
        case ParamDoc::In::query:
            return "query";
        case ParamDoc::In::header:
            return "header";
        case ParamDoc::In::cookie:
            return "cookie";
    }
    return "query";
}

/// What RouteOptions::doc and an endpoint's `<verb>_doc` say together (the verb's set fields
/// win; responses add up).
Operation merged(const Operation& route, const Operation* verb) {
    Operation out = route;
    if (verb == nullptr) {
        return out;
    }
    if (!verb->summary.empty())
        out.summary = verb->summary;
    if (!verb->description.empty())
        out.description = verb->description;
    if (!verb->tags.empty())
        out.tags = verb->tags;
    if (!verb->operation_id.empty())
        out.operation_id = verb->operation_id;
    out.deprecated = out.deprecated || verb->deprecated;
    out.include_in_schema = out.include_in_schema && verb->include_in_schema;
    out.responses.insert(out.responses.end(), verb->responses.begin(), verb->responses.end());
    return out;
}

json::object response_object(SchemaBuilder& schemas,
                             Status status,
                             std::string_view description,
                             TypeDocFn type,
                             std::string_view media = "application/json") {
    json::object out{{"description", description.empty() ? reason_phrase(status) : description}};
    if (type != nullptr) {
        out["content"] = json::object{{media, json::object{{"schema", schemas.schema(type)}}}};
    }
    return out;
}

class DocumentBuilder {
public:
    explicit DocumentBuilder(const OpenAPIOptions& options) : options_(options) {}

    json::value build(const App::Impl& app) {
        json::object paths;
        for (const auto& route : app.router.routes()) {
            if (route->websocket || !route->doc.include_in_schema || route->docs.empty()) {
                continue;
            }
            add_route(*route, paths);
        }
        json::object info{{"title", options_.title}, {"version", options_.version}};
        if (!options_.description.empty()) {
            info["description"] = options_.description;
        }
        json::object document{{"openapi", "3.1.0"}, {"info", std::move(info)}};
        if (!options_.servers.empty()) {
            json::array servers;
            for (const auto& url : options_.servers) {
                servers.emplace_back(json::object{{"url", url}});
            }
            document["servers"] = std::move(servers);
        }
        // No security scheme is declared: every operation is open (an explicit empty list,
        // which linters ask for).
        document["security"] = json::array{};
        document["paths"] = std::move(paths);
        json::object components = schemas_.take_components();
        if (!components.empty()) {
            document["components"] = json::object{{"schemas", std::move(components)}};
        }
        return document;
    }

private:
    void add_route(const Route& route, json::object& paths) {
        const std::string path = openapi_path(route);
        std::vector<Method> methods;
        for (Method m : http_verbs) {
            if (route.methods.contains(m)) {
                methods.push_back(m);
            }
        }
        std::vector<std::pair<Method, const OperationDoc*>> operations;
        for (Method m : methods) {
            if (m == Method::head && route.methods.contains(Method::get)) {
                continue;  // served by GET (RFC 9110 9.3.2), as FastAPI leaves it out
            }
            const OperationDoc* found = nullptr;
            for (const OperationDoc& doc : route.docs) {
                if (doc.method == m || doc.method == Method::other) {
                    found = &doc;
                    break;
                }
            }
            if (found != nullptr) {
                operations.emplace_back(m, found);
            }
        }
        json::value& slot = paths[path];  // another route may have the same path
        if (!slot.is_object()) {
            slot.emplace_object();
        }
        json::object& item = slot.as_object();
        for (auto [method, doc] : operations) {
            Operation info = merged(route.doc, doc->info);
            if (!info.include_in_schema) {
                continue;
            }
            item[lower(to_string(method))] =
                operation(route, method, *doc, info, operations.size() > 1);
        }
        if (item.empty()) {
            paths.erase(path);
        }
    }

    json::object operation(const Route& route,
                           Method method,
                           const OperationDoc& doc,
                           const Operation& info,
                           bool several) {
        json::object op;
        std::string id = info.operation_id;
        if (id.empty()) {
            const std::string verb = lower(to_string(method));
            const std::string path = openapi_path(route);
            const std::string base =
                !route.name.empty()
                    ? sanitize(route.name) + (several ? "_" + verb : "")
                    : verb + "_" + (path == "/" ? std::string("root") : sanitize(path));
            id = base;
            for (int n = 2; ids_.contains(id); ++n) {
                id = base + "_" + std::to_string(n);
            }
        } else if (ids_.contains(id)) {
            throw std::invalid_argument("flamecpp: operationId '" + id + "' is given twice (" +
                                        std::string(to_string(method)) + " " + route.pattern + ")");
        }
        ids_.insert(id);
        if (!info.tags.empty()) {
            json::array tags;
            for (const auto& tag : info.tags) {
                tags.emplace_back(tag);
            }
            op["tags"] = std::move(tags);
        }
        op["summary"] = info.summary.empty()
                            ? std::string(to_string(method)) + " " + openapi_path(route)
                            : info.summary;
        if (!info.description.empty()) {
            op["description"] = info.description;
        }
        op["operationId"] = id;
        if (info.deprecated) {
            op["deprecated"] = true;
        }

        json::array parameters;
        std::set<std::pair<std::string, std::string>> seen;
        for (const Segment& segment : route.segments) {
            if (!segment.is_param) {
                continue;
            }
            const ParamDoc* given = nullptr;
            for (const ParamDoc& p : doc.params) {
                if (p.in == ParamDoc::In::path && p.name == segment.text) {
                    given = &p;
                }
            }
            json::object parameter{{"name", segment.text}, {"in", "path"}, {"required", true}};
            if (given != nullptr) {
                json::value schema = schemas_.with_rules(given->type, given->rules);
                if (segment.convertor == Convertor::int_ ||
                    segment.convertor == Convertor::float_) {
                    auto& o = schema.as_object();
                    if (!o.contains("minimum") ||
                        (o["minimum"].is_number() && o["minimum"].to_number<double>() < 0)) {
                        o["minimum"] = 0;  // the convertor takes digits only
                    }
                }
                parameter["schema"] = std::move(schema);
            } else {
                parameter["schema"] = convertor_schema(segment.convertor);
            }
            seen.emplace("path", segment.text);
            parameters.emplace_back(std::move(parameter));
        }
        for (const ParamDoc& p : doc.params) {
            if (p.in == ParamDoc::In::path ||
                !seen.emplace(location(p.in), std::string(p.name)).second) {
                continue;
            }
            json::value schema = schemas_.with_rules(p.type, p.rules);
            if (p.default_value != nullptr && p.default_value->kind != DefaultArg::Kind::none) {
                schema.as_object()["default"] = default_value(*p.default_value);
            }
            json::object parameter{
                {"name", p.name}, {"in", location(p.in)}, {"required", p.required}};
            if (p.type().kind == TypeDoc::Kind::array && p.in == ParamDoc::In::query) {
                parameter["style"] = "form";
                parameter["explode"] = true;
            }
            parameter["schema"] = std::move(schema);
            parameters.emplace_back(std::move(parameter));
        }
        if (!parameters.empty()) {
            op["parameters"] = std::move(parameters);
        }

        // A path parameter that does not convert is a 404 (the route does not match); other
        // parameters, rules and bodies are 400s.
        bool bad_request =
            doc.body.kind == BodyDoc::Kind::json || doc.body.kind == BodyDoc::Kind::form;
        for (const ParamDoc& p : doc.params) {
            bad_request = bad_request || p.in != ParamDoc::In::path ||
                          (p.rules != nullptr && !p.rules->empty());
        }
        bool unsupported_media = false;
        switch (doc.body.kind) {
            case BodyDoc::Kind::json: {
                json::object content{
                    {"application/json", json::object{{"schema", schemas_.schema(doc.body.type)}}}};
                op["requestBody"] =
                    json::object{{"required", true}, {"content", std::move(content)}};
                unsupported_media = true;
                break;
            }
            case BodyDoc::Kind::form: {
                json::value schema = doc.body.type != nullptr
                                         ? schemas_.schema(doc.body.type)
                                         : json::value(json::object{{"type", "object"}});
                json::object content;
                bool files = false;
                if (doc.body.type != nullptr) {
                    for (const FieldDoc& field : doc.body.type().fields) {
                        const TypeDoc* t = &field.type();
                        while (t->kind == TypeDoc::Kind::optional ||
                               t->kind == TypeDoc::Kind::array) {
                            t = &t->item();
                        }
                        files = files || t->kind == TypeDoc::Kind::binary;
                    }
                }
                content["multipart/form-data"] = json::object{{"schema", schema}};
                if (!files) {
                    content["application/x-www-form-urlencoded"] = json::object{{"schema", schema}};
                }
                op["requestBody"] =
                    json::object{{"required", true}, {"content", std::move(content)}};
                unsupported_media = true;
                break;
            }
            case BodyDoc::Kind::stream:
                op["requestBody"] = json::object{
                    {"content",
                     json::object{{"application/octet-stream",
                                   json::object{{"schema", json::object{{"type", "string"},
                                                                        {"format", "binary"}}}}}}}};
                break;
            case BodyDoc::Kind::none:
                break;
        }

        json::object responses;
        bool success = false;
        for (const ResponseDoc& r : info.responses) {
            success =
                success || (static_cast<int>(r.status) >= 200 && static_cast<int>(r.status) < 300);
            json::object answer = response_object(schemas_, r.status, r.description, r.schema);
            if (!r.headers.empty()) {
                json::object headers;
                for (const auto& h : r.headers) {
                    headers[h] = json::object{{"schema", json::object{{"type", "string"}}}};
                }
                answer["headers"] = std::move(headers);
            }
            responses[std::to_string(static_cast<int>(r.status))] = std::move(answer);
        }
        if (!success) {
            switch (doc.result.kind) {
                case ResultDoc::Kind::json:
                    responses["200"] = response_object(schemas_, Status::ok, {}, doc.result.type);
                    break;
                case ResultDoc::Kind::text:
                    responses["200"] = json::object{
                        {"description", "OK"},
                        {"content",
                         json::object{
                             {"text/plain",
                              json::object{{"schema", json::object{{"type", "string"}}}}}}}};
                    break;
                case ResultDoc::Kind::response:
                    responses["200"] = json::object{{"description", "OK"}};
                    break;
            }
        }
        if (bad_request && !responses.contains("400")) {
            responses["400"] =
                response_object(schemas_, Status::bad_request,
                                "The parameters or the body are not valid", &type_doc<Error>);
        }
        if (unsupported_media && !responses.contains("415")) {
            responses["415"] = response_object(
                schemas_, Status::unsupported_media_type,
                "The body is not of the media type the operation takes", &type_doc<Error>);
        }
        // In the order of their codes, as readers expect.
        std::vector<std::pair<std::string, json::value>> sorted;
        for (auto& entry : responses) {
            sorted.emplace_back(std::string(entry.key()), std::move(entry.value()));
        }
        std::sort(sorted.begin(), sorted.end(),
                  [](const auto& a, const auto& b) { return a.first < b.first; });
        json::object ordered;
        for (auto& [code, answer] : sorted) {
            ordered[code] = std::move(answer);
        }
        op["responses"] = std::move(ordered);
        return op;
    }

    const OpenAPIOptions& options_;
    SchemaBuilder schemas_;
    std::set<std::string> ids_;
};

[[noreturn]] void throw_bad_pattern(const std::string& where,
                                    const std::string& what,
                                    const Pattern& pattern,
                                    const std::string& error) {
    std::string message = "flamecpp: ";
    message.append(where).append(": the pattern of ").append(what).append(" (");
    message.append(pattern.view()).append(") is not a valid regular expression: ").append(error);
    throw std::invalid_argument(message);
}

/// Visits the rules of a type's fields, once per type.
void check_type_patterns(const TypeDoc& doc,
                         std::set<const TypeDoc*>& seen,
                         const std::string& where) {
    if (!seen.insert(&doc).second) {
        return;
    }
    if (doc.item != nullptr) {
        check_type_patterns(doc.item(), seen, where);
    }
    for (const FieldDoc& field : doc.fields) {
        if (field.rules != nullptr && !field.rules->pattern.empty()) {
            if (auto error = pattern_error(field.rules->pattern); !error.empty()) {
                throw_bad_pattern(where, "field '" + std::string(field.name) + "'",
                                  field.rules->pattern, error);
            }
        }
        check_type_patterns(field.type(), seen, where);
    }
}

std::string escape_html(std::string_view text) {
    std::string out;
    for (char c : text) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

/// A string as a JavaScript literal inside a <script> (JSON, with '<' escaped).
std::string script_string(std::string_view text) {
    std::string quoted = json::serialize(json::string(text));
    std::string out;
    for (char c : quoted) {
        if (c == '<') {
            out += "\\u003c";
        } else {
            out += c;
        }
    }
    return out;
}

std::string swagger_page(const OpenAPIOptions& options, const std::string& assets) {
    return "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
           "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
           "<title>" +
           escape_html(options.title) +
           " - Swagger UI</title>\n"
           "<link rel=\"icon\" href=\"data:,\">\n"
           "<link rel=\"stylesheet\" href=\"" +
           escape_html(assets) +
           "/swagger-ui.css\">\n"
           "</head>\n<body>\n<div id=\"swagger-ui\"></div>\n"
           "<script src=\"" +
           escape_html(assets) +
           "/swagger-ui-bundle.js\"></script>\n"
           "<script>\nwindow.ui = SwaggerUIBundle({url: " +
           script_string(options.openapi_path) +
           ", dom_id: \"#swagger-ui\", deepLinking: true});\n</script>\n</body>\n</html>\n";
}

std::string redoc_page(const OpenAPIOptions& options) {
    return "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
           "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
           "<title>" +
           escape_html(options.title) +
           " - ReDoc</title>\n"
           "<link rel=\"icon\" href=\"data:,\">\n</head>\n<body>\n"
           "<redoc spec-url=\"" +
           escape_html(options.openapi_path) +
           "\"></redoc>\n"
           "<script src=\"" +
           escape_html(options.redoc_url) + "\"></script>\n</body>\n</html>\n";
}

}  // namespace

void check_route_docs(const Route& route) {
    std::set<const TypeDoc*> seen;
    const std::string where = "route " + route.pattern;
    for (const OperationDoc& doc : route.docs) {
        for (const ParamDoc& p : doc.params) {
            if (p.rules != nullptr && !p.rules->pattern.empty()) {
                if (auto error = pattern_error(p.rules->pattern); !error.empty()) {
                    throw_bad_pattern(where, "'" + std::string(p.name) + "'", p.rules->pattern,
                                      error);
                }
            }
            check_type_patterns(p.type(), seen, where);
        }
        if (doc.body.type != nullptr) {
            check_type_patterns(doc.body.type(), seen, where);
        }
    }
}

}  // namespace detail

std::string openapi_json(App& app, const OpenAPIOptions& options) {
    detail::DocumentBuilder builder(options);
    return boost::json::serialize(builder.build(app.impl()));
}

void serve_openapi(App& app, const OpenAPIOptions& options) {
    if (options.openapi_path.empty()) {
        return;
    }
    // What the routes serve, made by the startup hook (after the flags are read and every
    // route is registered) and only read after it.
    struct Served {
        std::string document;
        std::string swagger;
        std::string redoc;
        std::optional<StaticFiles> assets;
    };
    auto served = std::make_shared<Served>();
    RouteOptions hidden;
    hidden.doc.include_in_schema = false;
    app.route(
        options.openapi_path,
        [served] { return Response(Status::ok, served->document, "application/json"); },
        {Method::get}, {}, hidden);
    if (!options.docs_path.empty()) {
        app.route(
            options.docs_path, [served] { return Response::html(served->swagger); }, {Method::get},
            {}, hidden);
        if (!options.assets_dir.empty() || options.assets_dir_flag) {
            app.route(
                options.docs_path + "/assets/{path:path}",
                [served](Request& request) {
                    if (!served->assets) {
                        throw HTTPException(Status::not_found);
                    }
                    return (*served->assets)(request);
                },
                {Method::get}, {}, hidden);
        }
    }
    if (!options.redoc_path.empty()) {
        app.route(
            options.redoc_path, [served] { return Response::html(served->redoc); }, {Method::get},
            {}, hidden);
    }
    app.on_startup(
        [served, options](App& self) {
            std::string dir = options.assets_dir;
            if (options.assets_dir_flag && options.assets_dir_flag->given()) {
                dir = **options.assets_dir_flag;
            }
            std::string assets = options.assets_url;
            if (!dir.empty()) {
                served->assets.emplace(dir);
                served->assets->open();
                assets = options.docs_path + "/assets";
            }
            served->swagger = detail::swagger_page(options, assets);
            served->redoc = detail::redoc_page(options);
            served->document = openapi_json(self, options);
        },
        "the OpenAPI schema");
}

}  // namespace flamecpp
