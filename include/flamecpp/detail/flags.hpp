#pragma once

/// @file
/// What App::flag hands the library: a flag's name, help and typed storage. The command line
/// is parsed in the library (Boost.ProgramOptions), which fills the storage by kind.

#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

namespace flamecpp::detail {

/// The value types an app's flag may have.
enum class FlagKind : unsigned char { text, integer, number, boolean, list };

template <class T>
inline constexpr bool dependent_false_flag = false;

template <class T>
constexpr FlagKind flag_kind() {
    if constexpr (std::is_same_v<T, std::string>) {
        return FlagKind::text;
    } else if constexpr (std::is_same_v<T, long long>) {
        return FlagKind::integer;
    } else if constexpr (std::is_same_v<T, double>) {
        return FlagKind::number;
    } else if constexpr (std::is_same_v<T, bool>) {
        return FlagKind::boolean;
    } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
        return FlagKind::list;
    } else {
        static_assert(dependent_false_flag<T>,
                      "flamecpp: app.flag<T>() takes T = std::string, long long, double, bool (a "
                      "switch) or std::vector<std::string> (a flag that may repeat).");
        return FlagKind::text;
    }
}

/// One flag an app declared.
struct FlagSpec {
    std::string name;        ///< without the dashes: "static", "allowed-host"
    std::string value_name;  ///< in the help: "--static DIR"
    std::string help;
    FlagKind kind = FlagKind::text;
    std::shared_ptr<void> value;  ///< the T the parser fills (std::string, long long, ...)
    std::shared_ptr<bool> given;  ///< set when the command line or the environment gave it
    /// Checks the parsed value: empty when it is good, else why not.
    std::function<std::string()> check;
};

}  // namespace flamecpp::detail
