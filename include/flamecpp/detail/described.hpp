#pragma once

/// @file
/// The schema of described structs and enums (Boost.Describe), for Body<T>, Form<T> and
/// typed answers: their fields, whether each is required, and the FLAMECPP_RULES of each.

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>
#include <type_traits>
#include <utility>

#include <boost/describe/enumerators.hpp>
#include <boost/describe/members.hpp>
#include <boost/mp11/algorithm.hpp>

#include <flamecpp/detail/default_arg.hpp>
#include <flamecpp/detail/doc.hpp>
#include <flamecpp/rules.hpp>

namespace flamecpp::detail {

template <class T>
concept Described = boost::describe::has_describe_members<T>::value;

template <class T>
concept DescribedEnum = std::is_enum_v<T> && boost::describe::has_describe_enumerators<T>::value;

/// The fields of a described struct, for its schema.
template <Described T>
struct StructFields {
    using Members = boost::describe::describe_members<T, boost::describe::mod_public>;
    static constexpr std::size_t size = boost::mp11::mp_size<Members>::value;
    static constexpr std::array<FieldDoc, size> value = [] {
        std::array<FieldDoc, size> out{};
        std::size_t i = 0;
        boost::mp11::mp_for_each<Members>([&](auto member) {
            using Field = std::remove_cvref_t<decltype(std::declval<T&>().*member.pointer)>;
            out[i++] = FieldDoc{.name = member.name,
                                .type = &type_doc<Field>,
                                .required = !IsOptional<Field>::value,
                                .rules = FieldRulesOf<T>::find(member.name)};
        });
        return out;
    }();
};

template <Described T>
struct TypeDocOf<T> {
    static constexpr TypeDoc value = [] {
        TypeDoc doc{.kind = TypeDoc::Kind::structure};
        doc.name = type_name<T>();
        doc.fields = StructFields<T>::value;
        return doc;
    }();
};

template <DescribedEnum T>
struct EnumNames {
    using Enumerators = boost::describe::describe_enumerators<T>;
    static constexpr std::size_t size = boost::mp11::mp_size<Enumerators>::value;
    static constexpr std::array<std::string_view, size> value = [] {
        std::array<std::string_view, size> out{};
        std::size_t i = 0;
        boost::mp11::mp_for_each<Enumerators>([&](auto e) { out[i++] = e.name; });
        return out;
    }();
};

template <DescribedEnum T>
struct TypeDocOf<T> {
    static constexpr TypeDoc value = [] {
        TypeDoc doc{.kind = TypeDoc::Kind::enumeration};
        doc.name = type_name<T>();
        doc.enumerators = EnumNames<T>::value;
        return doc;
    }();
};

}  // namespace flamecpp::detail
