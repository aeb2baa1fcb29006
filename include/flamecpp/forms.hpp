#pragma once

/// @file
/// HTML form bodies, `application/x-www-form-urlencoded` and `multipart/form-data`: every
/// field and file as FormData, or bound to a described struct with Form<T>. A handler taking
/// either is called once the whole form has been read; the body is parsed as it arrives, and
/// files larger than Limits::form_spool_bytes go to temporary files, removed after the
/// request.
///
/// @code
/// struct Signup { std::string email; int age; std::optional<flamecpp::UploadFile> avatar; };
/// BOOST_DESCRIBE_STRUCT(Signup, (), (email, age, avatar))
///
/// flamecpp::Response signup(flamecpp::Form<Signup> form);        // 400 names a bad field
/// boost::json::value echo(flamecpp::FormData form);               // every name, every value
/// @endcode

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/describe/class.hpp>  // BOOST_DESCRIBE_STRUCT, which every form type needs
#include <boost/describe/members.hpp>
#include <boost/mp11/algorithm.hpp>

#include <flamecpp/body_reader.hpp>
#include <flamecpp/detail/described.hpp>
#include <flamecpp/detail/inject.hpp>
#include <flamecpp/detail/injected.hpp>
#include <flamecpp/limits.hpp>
#include <flamecpp/task.hpp>

namespace flamecpp {

namespace detail {
struct UploadStore;
}

/// A file sent in a multipart form: its field name, the file name and type the client gave,
/// and its bytes, held in memory while small and in a temporary file beyond
/// Limits::form_spool_bytes. The temporary file is removed when the last copy of the
/// UploadFile goes (after the request, unless the handler keeps one). Copies share the bytes;
/// each has its own read position.
///
/// The file name is the client's: never use it as a path on the server.
class UploadFile {
public:
    /// An empty file: no field, no name, no bytes.
    UploadFile() = default;

    /// The form field the file was sent as.
    std::string_view field() const noexcept;
    /// The file name the client sent (may be empty).
    std::string_view filename() const noexcept;
    /// The part's Content-Type ("text/plain" when the client sent none, RFC 7578 4.4).
    std::string_view content_type() const noexcept;
    /// Its size in bytes.
    std::uint64_t size() const noexcept;
    /// True while the bytes are held in memory (no temporary file yet).
    bool in_memory() const noexcept;

    /// Reads up to `buffer.size()` bytes from the read position on, and moves it; 0 at the end.
    /// Throws std::system_error when the temporary file cannot be read.
    std::size_t read(std::span<char> buffer);
    /// Moves the read position (clamped to size()).
    void seek(std::uint64_t position) noexcept;
    /// Every byte, from the start, in a string.
    std::string contents() const;
    /// A file holding the bytes: the temporary file, written first if they were in memory.
    /// Valid while an UploadFile refers to it.
    std::string path();
    /// Moves the bytes to `target` (a rename when it is on the temporary file's file system,
    /// else a copy); from then on path() names `target`, which is not removed. Throws
    /// std::system_error naming `target` when it fails.
    void save_as(const std::string& target);

private:
    friend struct detail::UploadStore;
    explicit UploadFile(std::shared_ptr<detail::UploadStore> store) noexcept
        : store_(std::move(store)) {}

    std::shared_ptr<detail::UploadStore> store_;
    std::uint64_t position_ = 0;
};

/// The fields of a form, in the order the client sent them; a name may repeat (checkboxes,
/// multiple selects). A multipart form's files are kept apart, in files().
class FormData {
public:
    /// One text field: its name and its value (percent-decoded in a urlencoded form).
    using Field = std::pair<std::string, std::string>;

    /// An empty form.
    FormData() = default;
    /// A form of `fields` and `files`, in that order (for tests of code that takes a FormData).
    explicit FormData(std::vector<Field> fields, std::vector<UploadFile> files = {})
        : fields_(std::move(fields)), files_(std::move(files)) {}

    /// The first value of the text field `name`, if the form has it.
    std::optional<std::string_view> get(std::string_view name) const noexcept;
    /// Every value of the text field `name`, in order.
    std::vector<std::string_view> get_all(std::string_view name) const;
    /// True when the form has a text field `name` (files are not counted: see file()).
    bool contains(std::string_view name) const noexcept { return get(name).has_value(); }
    /// Every text field, in order.
    const std::vector<Field>& fields() const noexcept { return fields_; }
    /// The number of text fields (files not counted).
    std::size_t size() const noexcept { return fields_.size(); }
    /// True when the form has neither text fields nor files.
    bool empty() const noexcept { return fields_.empty() && files_.empty(); }

    /// The first file sent as `name`, if any (nullptr otherwise).
    UploadFile* file(std::string_view name) noexcept;
    /// Every file, in the order sent.
    std::vector<UploadFile>& files() noexcept { return files_; }
    /// Every file, in the order sent, read-only.
    const std::vector<UploadFile>& files() const noexcept { return files_; }

private:
    std::vector<Field> fields_;
    std::vector<UploadFile> files_;
};

/// The form body bound to `T`, a struct described with BOOST_DESCRIBE_STRUCT whose fields are
/// std::string, integers, floating-point types, bool or UploadFile (required),
/// std::optional<U> (absent: empty) or std::vector<U> (every value of a repeated name). A
/// missing field or a value that does not convert answers 400
/// `{"detail": "form field 'age' must be an integer"}`. The value is `*form` (also `form->`,
/// `form.value`).
template <class T>
struct Form : detail::Injected<T> {};

namespace detail {

/// Decodes an `application/x-www-form-urlencoded` body (the WHATWG rules: pairs split on '&',
/// '+' as a space, percent escapes; a pair without '=' has an empty value, empty pairs are
/// skipped) into `out`. False, `out` unchanged, when an escape is bad.
bool decode_urlencoded(std::string_view body, std::vector<FormData::Field>& out);

/// The form in a request whose body was read whole (in a middleware or an exception handler):
/// 415 for a body that is not a form, 400 for a malformed one.
FormData read_form(const Request& request, const Limits& limits = {});

/// Reads the form of a route handler from the body as it arrives: 415 for a body that is not
/// a form, 400 for a malformed one, 413 for text over Limits::max_form_text_bytes.
Task<FormData> read_form_body(BodyReader& body, const Request& request, const Limits& limits);

template <class T>
constexpr bool form_field_ok() {
    if constexpr (IsOptional<T>::value || IsVector<T>::value) {
        return std::same_as<typename T::value_type, UploadFile> ||
               QueryValue<typename T::value_type>;
    } else {
        return std::same_as<T, UploadFile> || query_type_ok<T>();
    }
}

template <class T>
constexpr bool form_type_ok() {
    if constexpr (!boost::describe::has_describe_members<T>::value) {
        return false;
    } else {
        bool ok = true;
        boost::mp11::mp_for_each<boost::describe::describe_members<T, boost::describe::mod_public>>(
            [&](auto member) {
                using F = std::remove_cvref_t<decltype(std::declval<T&>().*member.pointer)>;
                ok = ok && form_field_ok<F>();
            });
        return ok;
    }
}

/// An uploaded file in a form's schema: binary content.
template <>
struct TypeDocOf<UploadFile> {
    static constexpr TypeDoc value{.kind = TypeDoc::Kind::binary};
};

template <>
struct Injector<FormData> : NoRequirements {
    static constexpr bool available = true;
    static constexpr BodyUse body_use = BodyUse::form;
    static FormData get(CallContext& ctx) {
        return ctx.form != nullptr ? std::move(*ctx.form) : read_form(ctx.request);
    }
};

/// The form itself, for a handler that reads its files in place (`FormData&`).
template <>
struct Injector<FormData&> : NoRequirements {
    static constexpr bool available = true;
    static constexpr BodyUse body_use = BodyUse::form;
    static constexpr bool route_only = true;
    static FormData& get(CallContext& ctx) {
        if (ctx.form == nullptr) {
            throw std::logic_error(
                "flamecpp: FormData& is given to route handlers only; elsewhere take FormData");
        }
        return *ctx.form;
    }
};

/// One field of Form<T> from `form`.
template <class F>
F form_member(FormData& form, std::string_view name) {
    if constexpr (std::same_as<F, UploadFile>) {
        if (UploadFile* file = form.file(name)) {
            return *file;
        }
        if (form.contains(name)) {
            throw_bad_param("form field", name, "a file");
        }
        throw_missing_param("form field", name);
    } else if constexpr (std::same_as<F, std::optional<UploadFile>>) {
        if (UploadFile* file = form.file(name)) {
            return *file;
        }
        if (form.contains(name)) {
            throw_bad_param("form field", name, "a file");
        }
        return std::nullopt;
    } else if constexpr (std::same_as<F, std::vector<UploadFile>>) {
        F out;
        for (const UploadFile& file : form.files()) {
            if (file.field() == name) {
                out.push_back(file);
            }
        }
        return out;
    } else if constexpr (IsVector<F>::value) {
        F out;
        for (std::string_view text : form.get_all(name)) {
            out.push_back(
                convert_param<typename F::value_type, DefaultArg{}>(text, "form field", name));
        }
        return out;
    } else {
        return convert_param<F, DefaultArg{}>(form.get(name), "form field", name);
    }
}

template <class T>
struct Injector<Form<T>> : NoRequirements {
    static_assert(form_type_ok<T>(),
                  "flamecpp: Form<T> takes a struct described with BOOST_DESCRIBE_STRUCT whose "
                  "fields are std::string, an integer, a floating-point type, bool, "
                  "flamecpp::UploadFile, or std::optional / std::vector of those. For every "
                  "field as text, take flamecpp::FormData.");
    static constexpr bool available = true;
    static constexpr BodyUse body_use = BodyUse::form;
    static constexpr BodyDoc body_doc{.kind = BodyDoc::Kind::form, .type = &type_doc<T>};
    static Form<T> get(CallContext& ctx) {
        FormData read;
        FormData& form = ctx.form != nullptr ? *ctx.form : (read = read_form(ctx.request));
        T out{};
        boost::mp11::mp_for_each<boost::describe::describe_members<T, boost::describe::mod_public>>(
            [&](auto member) {
                using F = std::remove_cvref_t<decltype(out.*member.pointer)>;
                out.*member.pointer = form_member<F>(form, member.name);
                if constexpr (!std::is_same_v<F, UploadFile> &&
                              !std::is_same_v<F, std::optional<UploadFile>> &&
                              !std::is_same_v<F, std::vector<UploadFile>>) {
                    constexpr std::size_t at = FieldRulesOf<T>::index(decltype(member)::name);
                    if constexpr (at < FieldRulesOf<T>::value.size()) {
                        check_rules(FieldRulesOf<T>::value[at].rules, out.*member.pointer,
                                    "form field", member.name);
                    }
                }
            });
        return Form<T>{std::move(out)};
    }
};

}  // namespace detail
}  // namespace flamecpp
