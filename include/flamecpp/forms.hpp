#pragma once

/// @file
/// HTML form bodies (`application/x-www-form-urlencoded`): every field as FormData, or bound
/// to a described struct with Form<T>.
///
/// @code
/// struct Signup { std::string email; int age; std::optional<std::string> referrer; };
/// BOOST_DESCRIBE_STRUCT(Signup, (), (email, age, referrer))
///
/// flamecpp::Response signup(flamecpp::Form<Signup> form);        // 400 names a bad field
/// boost::json::value echo(flamecpp::FormData form);               // every name, every value
/// @endcode

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/describe/class.hpp>  // BOOST_DESCRIBE_STRUCT, which every form type needs
#include <boost/describe/members.hpp>
#include <boost/mp11/algorithm.hpp>

#include <flamecpp/detail/inject.hpp>
#include <flamecpp/detail/injected.hpp>

namespace flamecpp {

/// The fields of a form, in the order the client sent them; a name may repeat (checkboxes,
/// multiple selects).
class FormData {
public:
    using Field = std::pair<std::string, std::string>;

    FormData() = default;
    explicit FormData(std::vector<Field> fields) : fields_(std::move(fields)) {}

    /// The first value of `name`, if the form has it.
    std::optional<std::string_view> get(std::string_view name) const noexcept;
    /// Every value of `name`, in order.
    std::vector<std::string_view> get_all(std::string_view name) const;
    bool contains(std::string_view name) const noexcept { return get(name).has_value(); }
    /// Every field, in order.
    const std::vector<Field>& fields() const noexcept { return fields_; }
    std::size_t size() const noexcept { return fields_.size(); }
    bool empty() const noexcept { return fields_.empty(); }

private:
    std::vector<Field> fields_;
};

/// The form body bound to `T`, a struct described with BOOST_DESCRIBE_STRUCT whose fields are
/// std::string, integers, floating-point types or bool (required), std::optional<U> (absent:
/// empty) or std::vector<U> (every value of a repeated name). A missing field or a value that
/// does not convert answers 400 `{"detail": "form field 'age' must be an integer"}`.
template <class T>
struct Form : detail::Injected<T> {};

namespace detail {

/// Decodes an `application/x-www-form-urlencoded` body (the WHATWG rules: pairs split on '&',
/// '+' as a space, percent escapes; a pair without '=' has an empty value, empty pairs are
/// skipped) into `out`. False, `out` unchanged, when an escape is bad.
bool decode_urlencoded(std::string_view body, std::vector<FormData::Field>& out);

/// The request's form: 415 for a body that is not a urlencoded form, 400 for a bad escape.
FormData read_form(const Request& request);

template <class T>
constexpr bool form_field_ok() {
    if constexpr (IsOptional<T>::value || IsVector<T>::value) {
        return QueryValue<typename T::value_type>;
    } else {
        return QueryValue<T>;
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

template <>
struct Injector<FormData> : NoRequirements {
    static constexpr bool available = true;
    static FormData get(CallContext& ctx) { return read_form(ctx.request); }
};

template <class T>
struct Injector<Form<T>> : NoRequirements {
    static_assert(form_type_ok<T>(),
                  "flamecpp: Form<T> takes a struct described with BOOST_DESCRIBE_STRUCT whose "
                  "fields are std::string, an integer, a floating-point type, bool, or "
                  "std::optional / std::vector of those. For every field as text, take "
                  "flamecpp::FormData.");
    static constexpr bool available = true;
    static Form<T> get(CallContext& ctx) {
        const FormData form = read_form(ctx.request);
        T out{};
        boost::mp11::mp_for_each<boost::describe::describe_members<T, boost::describe::mod_public>>(
            [&](auto member) {
                using F = std::remove_cvref_t<decltype(out.*member.pointer)>;
                if constexpr (IsVector<F>::value) {
                    for (std::string_view text : form.get_all(member.name)) {
                        (out.*member.pointer)
                            .push_back(convert_param<typename F::value_type, DefaultArg{}>(
                                text, "form field", member.name));
                    }
                } else {
                    out.*member.pointer = convert_param<F, DefaultArg{}>(form.get(member.name),
                                                                         "form field", member.name);
                }
            });
        return Form<T>{std::move(out)};
    }
};

}  // namespace detail
}  // namespace flamecpp
