#pragma once

/// @file
/// The injector: resolves a handler's parameters by their types. Resolution is planned at
/// compile time; each parameter costs only producing its value.

#include <array>
#include <charconv>
#include <concepts>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <typeinfo>
#include <vector>

#include <flamecpp/detail/components.hpp>
#include <flamecpp/detail/convertors.hpp>
#include <flamecpp/detail/default_arg.hpp>
#include <flamecpp/detail/doc.hpp>
#include <flamecpp/http_exception.hpp>
#include <flamecpp/injection.hpp>
#include <flamecpp/request.hpp>
#include <flamecpp/routing.hpp>
#include <flamecpp/rules.hpp>
#include <flamecpp/websocket.hpp>

namespace flamecpp {
class App;
class Next;
class BodyReader;
class FormData;
}  // namespace flamecpp

namespace flamecpp::detail {

/// Everything a parameter can be resolved from during one call.
struct CallContext {
    explicit CallContext(Request& r, WebSocket* ws = nullptr) noexcept
        : request(r), websocket(ws) {}

    Request& request;
    WebSocket* websocket;                  ///< set on WebSocket routes
    Data* data = nullptr;                  ///< the message being handled
    std::optional<Code> code;              ///< the close code, for on_disconnect
    App* app = nullptr;                    ///< the app serving the call
    ComponentScope* components = nullptr;  ///< the app's components for this call
    const Next* next = nullptr;            ///< the rest of the pipeline, in a middleware
    const void* exception = nullptr;       ///< the exception, in an exception handler
    BodyReader* body = nullptr;            ///< the request body, in a route handler
    FormData* form = nullptr;              ///< the form read for a route handler taking one
};

/// What a handler does with the request body. `none`: the body is read whole before the
/// call (Request::body()). `stream`: the handler is called once the header is in and reads
/// the body itself (BodyReader&). `form`: the library reads the body as a form (streamed,
/// uploads spooled to files) before the call.
enum class BodyUse : unsigned char { none, form, stream };

/// Which kind of route a parameter is asked for on: some exist only on WebSocket routes.
enum class RouteKind { http, websocket };

/// Who asks for a parameter: an HTTP handler, a WebSocket handler, or a middleware. Some
/// parameters exist only for one of them.
enum class Caller { http, websocket, middleware };

/// A path parameter a handler needs from its route, checked when the route is registered.
struct PathRequirement {
    std::string_view name;
    /// Whether the parameter's type fits a convertor of PathValues::integers, ::floating and
    /// ::text (see convertors.hpp).
    bool accepts_int;
    bool accepts_float;
    bool accepts_text;
    std::string_view type_hint;  // "an integer", "a floating-point number", "a string"
};

/// What one handler parameter needs that only the app can check: a path parameter (checked
/// when the route is registered) or a component (when the server starts). Built at compile
/// time; a route hands the library a span of them, so no code runs per parameter.
struct Requirement {
    enum class Kind : unsigned char { path, component };
    Kind kind = Kind::path;
    PathRequirement path{};                            ///< kind == path
    std::size_t (*component_id)() noexcept = nullptr;  ///< kind == component
    const std::type_info* component_type = nullptr;    ///< kind == component
};

/// Every requirement of one handler (all its parameters, or all of an endpoint's members).
using Requirements = std::span<const Requirement>;

/// `Injector<P>` says how to produce a parameter of type P: `available`, `get(ctx)`, and,
/// when the route or the app must provide something, a constexpr `requirement`.
template <class P>
struct Injector {
    static constexpr bool available = false;
};

/// For injectors that need nothing from the route or the app.
struct NoRequirements {};

template <>
struct Injector<Request&> : NoRequirements {
    static constexpr bool available = true;
    static Request& get(CallContext& ctx) noexcept { return ctx.request; }
};

template <>
struct Injector<Request> : Injector<Request&> {};  // a `const Request&` parameter

template <>
struct Injector<Client> : NoRequirements {
    static constexpr bool available = true;
    static Client get(CallContext& ctx) noexcept { return Client{ctx.request.client()}; }
};

template <>
struct Injector<App&> : NoRequirements {
    static constexpr bool available = true;
    static App& get(CallContext& ctx) noexcept { return *ctx.app; }
};
template <>
struct Injector<App> : Injector<App&> {};  // a `const App&` parameter

template <>
struct Injector<WebSocket&> : NoRequirements {
    static constexpr bool available = true;
    static constexpr bool websocket_only = true;
    static WebSocket& get(CallContext& ctx) noexcept { return *ctx.websocket; }
};

/// The message being handled; moved into a by-value parameter.
template <>
struct Injector<Data> : NoRequirements {
    static constexpr bool available = true;
    static constexpr bool websocket_only = true;
    static Data&& get(CallContext& ctx) noexcept { return std::move(*ctx.data); }
};

/// The close code that ended the connection (for on_disconnect).
template <>
struct Injector<Code> : NoRequirements {
    static constexpr bool available = true;
    static constexpr bool websocket_only = true;
    static Code get(CallContext& ctx) noexcept { return ctx.code.value_or(Code::no_status); }
};

/// The rest of the pipeline, for a middleware.
template <>
struct Injector<Next> : NoRequirements {
    static constexpr bool available = true;
    static constexpr bool middleware_only = true;
    static const Next& get(CallContext& ctx) noexcept { return *ctx.next; }
};

// --- Rules ---------------------------------------------------------------------------------

template <class T>
struct IsVector : std::false_type {};
template <class T>
struct IsVector<std::vector<T>> : std::true_type {};

/// Throw HTTPException 400 "<kind> '<name>' must ..." when `value` breaks `rules` (src/app).
void check_number_rules(const Rules& rules, double value, const char* kind, std::string_view name);
void check_text_rules(const Rules& rules,
                      std::string_view value,
                      const char* kind,
                      std::string_view name);
void check_count_rules(const Rules& rules,
                       std::size_t count,
                       const char* kind,
                       std::string_view name);

template <class T>
concept RuleNumber = std::is_arithmetic_v<T> && !std::same_as<T, bool>;
template <class T>
concept RuleText = std::convertible_to<const T&, std::string_view>;

/// Whether `rules` can apply to a T (lengths to strings, bounds to numbers, counts to vectors).
template <class T>
constexpr bool rules_fit(const Rules& rules) {
    if constexpr (IsOptional<T>::value) {
        return rules_fit<typename T::value_type>(rules);
    } else if constexpr (IsVector<T>::value) {
        Rules item = rules;
        item.min_items = 0;
        item.max_items = Rules::no_limit;
        return rules_fit<typename T::value_type>(item);
    } else {
        return !rules.counted() &&
               (!rules.numeric() || RuleNumber<T>)&&(!rules.textual() || RuleText<T>);
    }
}

/// Checks `value` against `rules` (see rules_fit); throws HTTPException 400 naming `name`.
template <class T>
void check_rules(const Rules& rules, const T& value, const char* kind, std::string_view name) {
    if constexpr (IsOptional<T>::value) {
        if (value) {
            check_rules(rules, *value, kind, name);
        }
    } else if constexpr (IsVector<T>::value) {
        if (rules.counted()) {
            check_count_rules(rules, value.size(), kind, name);
        }
        if (rules.numeric() || rules.textual()) {
            for (const auto& item : value) {
                check_rules(rules, item, kind, name);
            }
        }
    } else if constexpr (RuleNumber<T>) {
        if (rules.numeric()) {
            check_number_rules(rules, static_cast<double>(value), kind, name);
        }
    } else if constexpr (RuleText<T>) {
        if (rules.textual()) {
            check_text_rules(rules, std::string_view(value), kind, name);
        }
    }
}

template <class T, Rules R>
constexpr bool check_param_rules() {
    static_assert(rules_fit<T>(R),
                  "flamecpp: these Rules do not fit the parameter's type (see 'T = ...' above): "
                  ".minimum/.maximum/.exclusive_* bound numbers, .min_length/.max_length/"
                  ".pattern strings, .min_items/.max_items a std::vector.");
    return true;
}

// --- Path parameters -----------------------------------------------------------------------

template <class T>
concept PathValue = std::same_as<T, std::string> || std::same_as<T, std::string_view> ||
    (std::is_arithmetic_v<T> && !std::same_as<T, bool>);

/// Parses the text of a path parameter into T; a value out of T's range is a 404,
/// as if the convertor had not matched.
template <PathValue T>
T convert_path_value(std::string_view text, std::string_view name) {
    if constexpr (std::same_as<T, std::string>) {
        return std::string(text);
    } else if constexpr (std::same_as<T, std::string_view>) {
        return text;
    } else {
        T value{};
        const auto* end = text.data() + text.size();
        auto [ptr, ec] = std::from_chars(text.data(), end, value);
        if (ec != std::errc{} || ptr != end) {
            throw HTTPException(Status::not_found,
                                "path parameter '" + std::string(name) + "' is out of range");
        }
        return value;
    }
}

template <FixedString Name, class T, Rules R>
struct Injector<Path<Name, T, R>> {
    static_assert(PathValue<T>,
                  "flamecpp: Path<Name, T> takes T = std::string, std::string_view, an integer "
                  "or a floating-point type.");
    static_assert(check_param_rules<T, R>());
    static constexpr bool available = true;

    static Path<Name, T, R> get(CallContext& ctx) {
        auto text = ctx.request.path_param(Name.view());
        Path<Name, T, R> out{convert_path_value<T>(text.value_or(std::string_view{}), Name.view())};
        if constexpr (!R.empty()) {
            check_rules(R, out.value, "path parameter", Name.view());
        }
        return out;
    }
    static constexpr ParamDoc param_doc{
        .in = ParamDoc::In::path, .name = Name.view(), .type = &type_doc<T>, .rules = &R};
    static constexpr Requirement requirement{
        Requirement::Kind::path,
        PathRequirement{Name.view(), path_value_fits<T>(PathValues::integers),
                        path_value_fits<T>(PathValues::floating),
                        path_value_fits<T>(PathValues::text),
                        std::is_integral_v<T>         ? "an integer"
                        : std::is_floating_point_v<T> ? "a floating-point number"
                                                      : "a string"}};
};

// --- Query parameters and headers ----------------------------------------------------------

template <class T>
concept ScalarParam =
    std::same_as<T, std::string> || std::same_as<T, std::string_view> || std::is_arithmetic_v<T>;

/// Parses one query or header value; nullopt when it does not convert.
template <ScalarParam T>
std::optional<T> parse_param(std::string_view text) {
    if constexpr (std::same_as<T, std::string>) {
        return std::string(text);
    } else if constexpr (std::same_as<T, std::string_view>) {
        return text;
    } else if constexpr (std::same_as<T, bool>) {
        // The spellings HTML forms and people use (as Starlette's and pydantic's do).
        for (std::string_view yes : {"true", "1", "yes", "on"}) {
            if (text.size() == yes.size() &&
                std::equal(text.begin(), text.end(), yes.begin(),
                           [](char a, char b) { return (a | 0x20) == b; })) {
                return true;
            }
        }
        for (std::string_view no : {"false", "0", "no", "off"}) {
            if (text.size() == no.size() &&
                std::equal(text.begin(), text.end(), no.begin(),
                           [](char a, char b) { return (a | 0x20) == b; })) {
                return false;
            }
        }
        return std::nullopt;
    } else {
        T value{};
        const auto* end = text.data() + text.size();
        auto [ptr, ec] = std::from_chars(text.data(), end, value);
        if (ec != std::errc{} || ptr != end || text.empty()) {
            return std::nullopt;
        }
        return value;
    }
}

template <class T>
constexpr const char* describe_type() {
    if constexpr (std::same_as<T, bool>) {
        return "true or false";
    } else if constexpr (std::integral<T>) {
        return "an integer";
    } else if constexpr (std::floating_point<T>) {
        return "a number";
    } else {
        return "a string";
    }
}

[[noreturn]] void throw_bad_param(const char* kind, std::string_view name, const char* wanted);
[[noreturn]] void throw_param_out_of_range(const char* kind, std::string_view name);

/// True when `text` is a well-formed number that does not fit T (400 "is out of range",
/// not "must be an integer": it is one).
template <class T>
bool out_of_range(std::string_view text) noexcept {
    if constexpr ((std::integral<T> && !std::same_as<T, bool>) || std::floating_point<T>) {
        T value{};
        const auto* end = text.data() + text.size();
        auto [ptr, ec] = std::from_chars(text.data(), end, value);
        return ec == std::errc::result_out_of_range && ptr == end;
    } else {
        return false;
    }
}
[[noreturn]] void throw_missing_param(const char* kind, std::string_view name);

/// A query or header value: absent, defaulted, optional, or parsed (400 when it does not).
template <class T, DefaultArg Default>
T convert_param(const std::optional<std::string_view>& raw,
                const char* kind,
                std::string_view name) {
    if constexpr (IsOptional<T>::value) {
        if (!raw) {
            if constexpr (Default.kind != DefaultArg::Kind::none) {
                return make_default<T>(Default);
            } else {
                return std::nullopt;
            }
        }
        return convert_param<typename T::value_type, Default>(raw, kind, name);
    } else {
        if (!raw) {
            if constexpr (Default.kind != DefaultArg::Kind::none) {
                return make_default<T>(Default);
            } else {
                throw_missing_param(kind, name);
            }
        }
        auto value = parse_param<T>(*raw);
        if (!value) {
            if (out_of_range<T>(*raw)) {
                throw_param_out_of_range(kind, name);
            }
            throw_bad_param(kind, name, describe_type<T>());
        }
        return std::move(*value);
    }
}

template <class T>
concept QueryValue = ScalarParam<T> && !std::same_as<T, std::string_view>;

template <class T>
constexpr bool query_type_ok() {
    if constexpr (IsOptional<T>::value || IsVector<T>::value) {
        return QueryValue<typename T::value_type>;
    } else {
        return QueryValue<T>;
    }
}

template <FixedString Name, class T, DefaultArg D, Rules R>
struct Injector<Query<Name, T, D, R>> : NoRequirements {
    static_assert(query_type_ok<T>(),
                  "flamecpp: Query<Name, T> takes T = std::string, an integer, a floating-point "
                  "type, bool, or std::optional / std::vector of those (std::string_view cannot "
                  "hold a decoded value).");
    static_assert(check_param_rules<T, R>());
    static constexpr bool available = true;
    static constexpr ParamDoc param_doc{.in = ParamDoc::In::query,
                                        .name = Name.view(),
                                        .type = &type_doc<T>,
                                        .required = !IsOptional<T>::value && !IsVector<T>::value &&
                                                    D.kind == DefaultArg::Kind::none,
                                        .default_value = &D,
                                        .rules = &R};

    static Query<Name, T, D, R> get(CallContext& ctx) {
        if constexpr (R.empty()) {
            return read(ctx);
        } else {
            auto out = read(ctx);
            check_rules(R, out.value, "query parameter", Name.view());
            return out;
        }
    }

private:
    static Query<Name, T, D, R> read(CallContext& ctx) {
        if constexpr (IsVector<T>::value) {
            T values;
            for (const auto& text : ctx.request.query_all(Name.view())) {
                values.push_back(convert_param<typename T::value_type, DefaultArg{}>(
                    std::string_view(text), "query parameter", Name.view()));
            }
            return Query<Name, T, D, R>{std::move(values)};
        } else {
            auto raw = ctx.request.query(Name.view());
            if constexpr (std::same_as<T, std::string>) {
                if (raw) {
                    return Query<Name, T, D, R>{std::move(*raw)};  // already decoded: no copy
                }
            } else if constexpr (std::same_as<T, std::optional<std::string>>) {
                if (raw) {
                    return Query<Name, T, D, R>{std::move(raw)};
                }
            }
            std::optional<std::string_view> view;
            if (raw) {
                view = *raw;
            }
            return Query<Name, T, D, R>{convert_param<T, D>(view, "query parameter", Name.view())};
        }
    }
};

template <class T>
constexpr bool header_type_ok() {
    if constexpr (IsOptional<T>::value) {
        return ScalarParam<typename T::value_type>;
    } else {
        return ScalarParam<T>;
    }
}

template <FixedString Name, class T, DefaultArg D, Rules R>
struct Injector<Header<Name, T, D, R>> : NoRequirements {
    static_assert(header_type_ok<T>(),
                  "flamecpp: Header<Name, T> takes T = std::string, std::string_view, an "
                  "integer, a floating-point type, bool, or std::optional of those.");
    static_assert(check_param_rules<T, R>());
    static constexpr bool available = true;
    static constexpr ParamDoc param_doc{
        .in = ParamDoc::In::header,
        .name = Name.view(),
        .type = &type_doc<T>,
        .required = !IsOptional<T>::value && D.kind == DefaultArg::Kind::none,
        .default_value = &D,
        .rules = &R};

    static Header<Name, T, D, R> get(CallContext& ctx) {
        Header<Name, T, D, R> out{
            convert_param<T, D>(ctx.request.header(Name.view()), "header", Name.view())};
        if constexpr (!R.empty()) {
            check_rules(R, out.value, "header", Name.view());
        }
        return out;
    }
};

template <FixedString Name, class T, DefaultArg D, Rules R>
struct Injector<Cookie<Name, T, D, R>> : NoRequirements {
    static_assert(header_type_ok<T>(),
                  "flamecpp: Cookie<Name, T> takes T = std::string, std::string_view, an "
                  "integer, a floating-point type, bool, or std::optional of those.");
    static_assert(check_param_rules<T, R>());
    static constexpr bool available = true;
    static constexpr ParamDoc param_doc{
        .in = ParamDoc::In::cookie,
        .name = Name.view(),
        .type = &type_doc<T>,
        .required = !IsOptional<T>::value && D.kind == DefaultArg::Kind::none,
        .default_value = &D,
        .rules = &R};

    static Cookie<Name, T, D, R> get(CallContext& ctx) {
        Cookie<Name, T, D, R> out{
            convert_param<T, D>(ctx.request.cookie(Name.view()), "cookie", Name.view())};
        if constexpr (!R.empty()) {
            check_rules(R, out.value, "cookie", Name.view());
        }
        return out;
    }
};

// --- Components ----------------------------------------------------------------------------

template <class C>
concept ComponentType = enable_component<C>;

/// A component by reference: the app's shared instance, or this request's value.
template <ComponentType C>
struct Injector<C&> {
    static constexpr bool available = true;
    static C& get(CallContext& ctx) {
        return *static_cast<C*>(ctx.components->get(component_id<C>()));
    }
    static constexpr Requirement requirement{Requirement::Kind::component, PathRequirement{},
                                             &component_id<C>, &typeid(C)};
};
template <ComponentType C>
struct Injector<C> : Injector<C&> {};  // by value or by const reference

// --- Planning ------------------------------------------------------------------------------

/// The injector key of a declared parameter type: non-const lvalue references stay
/// references (`Request&`, `Counter&`), everything else is looked up by its plain type.
template <class P>
using InjectorKey = std::conditional_t<std::is_lvalue_reference_v<P> &&
                                           !std::is_const_v<std::remove_reference_t<P>>,
                                       P,
                                       std::remove_cvref_t<P>>;

template <class P>
concept Injectable = Injector<InjectorKey<P>>::available;

template <class P>
concept WebSocketOnly = requires {
    requires Injector<InjectorKey<P>>::websocket_only;
};

/// Produces the argument for a parameter declared as `P`.
template <class P>
decltype(auto) resolve(CallContext& ctx) {
    if constexpr (Injectable<P>) {
        return Injector<InjectorKey<P>>::get(ctx);
    } else {
        static_assert(dependent_false<P>,
                      "flamecpp: a handler parameter has a type the injector cannot provide "
                      "(see 'P = ...' above); the first error lists the types it can.");
    }
}

/// How a parameter declared as `P` uses the body (BodyUse); `none` for most.
template <class P>
constexpr BodyUse body_use_of() {
    if constexpr (requires { Injector<InjectorKey<P>>::body_use; }) {
        return Injector<InjectorKey<P>>::body_use;
    } else {
        return BodyUse::none;
    }
}

/// The body use of a whole parameter list: a stream wins over a form.
template <class Tuple>
struct BodyUseOf;
template <class... P>
struct BodyUseOf<std::tuple<P...>> {
    static constexpr BodyUse value = [] {
        BodyUse use = BodyUse::none;
        ((use = body_use_of<P>() > use ? body_use_of<P>() : use), ...);
        return use;
    }();
};

template <class P>
concept HasRequirement = requires {
    Injector<InjectorKey<P>>::requirement;
};

/// The requirements of the parameters of one handler, as a constexpr array.
template <class Tuple>
struct RequirementsOf;
template <class... P>
struct RequirementsOf<std::tuple<P...>> {
    static constexpr std::size_t size = (std::size_t{HasRequirement<P>} + ... + 0);
    static constexpr std::array<Requirement, size> value = [] {
        std::array<Requirement, size> out{};
        [[maybe_unused]] std::size_t i = 0;
        (
            [&] {
                if constexpr (HasRequirement<P>) {
                    out[i++] = Injector<InjectorKey<P>>::requirement;
                }
            }(),
            ...);
        return out;
    }();
};

template <class P>
concept HasParamDoc = requires {
    Injector<InjectorKey<P>>::param_doc;
};

template <class P>
concept HasBodyDoc = requires {
    Injector<InjectorKey<P>>::body_doc;
};

/// What the parameters of one handler document: its parameters and its body.
template <class Tuple>
struct ParamDocsOf;
template <class... P>
struct ParamDocsOf<std::tuple<P...>> {
    static constexpr std::size_t size = (std::size_t{HasParamDoc<P>} + ... + 0);
    static constexpr std::array<ParamDoc, size> value = [] {
        std::array<ParamDoc, size> out{};
        [[maybe_unused]] std::size_t i = 0;
        (
            [&] {
                if constexpr (HasParamDoc<P>) {
                    out[i++] = Injector<InjectorKey<P>>::param_doc;
                }
            }(),
            ...);
        return out;
    }();
    static constexpr BodyDoc body = [] {
        BodyDoc doc;
        (
            [&] {
                if constexpr (HasBodyDoc<P>) {
                    if (doc.type == nullptr) {
                        doc = Injector<InjectorKey<P>>::body_doc;
                    }
                } else if constexpr (body_use_of<P>() == BodyUse::form) {
                    if (doc.kind == BodyDoc::Kind::none) {
                        doc.kind = BodyDoc::Kind::form;
                    }
                } else if constexpr (body_use_of<P>() == BodyUse::stream) {
                    doc = BodyDoc{.kind = BodyDoc::Kind::stream};
                }
            }(),
            ...);
        return doc;
    }();
};

/// The requirements of several handlers (an endpoint's members) in one constexpr array.
template <class... Tuples>
struct JoinedRequirements {
    static constexpr std::size_t size = (RequirementsOf<Tuples>::size + ... + 0);
    static constexpr std::array<Requirement, size> value = [] {
        std::array<Requirement, size> out{};
        [[maybe_unused]] std::size_t i = 0;
        (
            [&] {
                for (const auto& r : RequirementsOf<Tuples>::value) {
                    out[i++] = r;
                }
            }(),
            ...);
        return out;
    }();
};

template <class P>
concept MiddlewareOnly = requires {
    requires Injector<InjectorKey<P>>::middleware_only;
};

/// Parameters only a route handler gets (the body as it arrives).
template <class P>
concept RouteOnly = requires {
    requires Injector<InjectorKey<P>>::route_only;
};

template <class P, class Handler, Caller Kind>
constexpr bool check_parameter() {
    static_assert(Injectable<P>,
                  "flamecpp: a handler parameter has a type the injector cannot provide "
                  "(see 'P = ...' above). Use Path<\"name\", T>, Query<\"name\", T>, "
                  "Header<\"name\", T>, Cookie<\"name\", T>, Body<T> (<flamecpp/body.hpp>), "
                  "Request&, Client, App&, BodyReader& (<flamecpp/body_reader.hpp>), FormData, "
                  "Form<T> (<flamecpp/forms.hpp>), "
                  "on WebSocket routes WebSocket&, Data, Code; or make the type a component "
                  "(derive from flamecpp::Component) and register it with app.component(...).");
    static_assert(Kind == Caller::websocket || !WebSocketOnly<P>,
                  "flamecpp: WebSocket&, Data and Code exist only on WebSocket routes; register "
                  "this handler with websocket_route(), returning void or Task<void> (see "
                  "'P = ...' above).");
    static_assert(Kind == Caller::middleware || !MiddlewareOnly<P>,
                  "flamecpp: flamecpp::Next (the rest of the pipeline) exists only in a "
                  "middleware; register this function with app.middleware(...).");
    static_assert(Kind == Caller::http || !RouteOnly<P>,
                  "flamecpp: BodyReader& and FormData& (the request body as it arrives) are "
                  "given to HTTP route handlers only; a middleware runs before the body is read "
                  "(see 'P = ...' above).");
    return Injectable<P> && (Kind == Caller::websocket || !WebSocketOnly<P>)&&(
                                Kind == Caller::middleware ||
                                !MiddlewareOnly<P>)&&(Kind == Caller::http || !RouteOnly<P>);
}

template <class Handler, class Tuple, Caller Kind = Caller::http>
struct ParametersCheck;
template <class Handler, class... P, Caller Kind>
struct ParametersCheck<Handler, std::tuple<P...>, Kind> {
    static constexpr bool value = (check_parameter<P, Handler, Kind>() && ... && true);
};

}  // namespace flamecpp::detail
