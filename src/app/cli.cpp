#include "app/cli.hpp"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/program_options.hpp>

#include "cpus.hpp"
#include "text/ascii.hpp"

namespace flamecpp::detail {
namespace po = boost::program_options;

namespace {
constexpr std::array<const char*, 6> level_names{"trace", "debug", "info", "warn", "error", "off"};
}

bool is_framework_flag(std::string_view name) noexcept {
    return name == "help" || name == "host" || name == "port" || name == "threads" ||
           name == "log-level" || name == "tls-cert" || name == "tls-key" || name == "reuse-port";
}

namespace {

/// The option of one app flag, writing into its storage.
void add_app_flag(po::options_description& desc, const FlagSpec& flag) {
    const char* name = flag.name.c_str();
    const char* help = flag.help.c_str();
    auto named = [&flag](auto* semantic) {
        if (!flag.value_name.empty()) {
            semantic->value_name(flag.value_name);
        }
        return semantic;
    };
    switch (flag.kind) {
        case FlagKind::text: {
            auto* target = static_cast<std::string*>(flag.value.get());
            desc.add_options()(name, named(po::value<std::string>(target)->default_value(*target)),
                               help);
            break;
        }
        case FlagKind::integer: {
            auto* target = static_cast<long long*>(flag.value.get());
            desc.add_options()(name, named(po::value<long long>(target)->default_value(*target)),
                               help);
            break;
        }
        case FlagKind::number: {
            auto* target = static_cast<double*>(flag.value.get());
            desc.add_options()(name, named(po::value<double>(target)->default_value(*target)),
                               help);
            break;
        }
        case FlagKind::boolean:
            desc.add_options()(name, po::bool_switch(static_cast<bool*>(flag.value.get())), help);
            break;
        case FlagKind::list: {
            auto* target = static_cast<std::vector<std::string>*>(flag.value.get());
            desc.add_options()(name, named(po::value<std::vector<std::string>>(target)), help);
            break;
        }
    }
}

std::string env_name(const std::string& prefix, std::string_view flag) {
    std::string out = prefix;
    for (char c : flag) {
        out += c == '-' ? '_' : static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c);
    }
    return out;
}

}  // namespace

CommandLine parse_command_line(int argc,
                               char** argv,
                               const ServerOptions& defaults,
                               const std::vector<FlagSpec>& flags,
                               const std::string& env_prefix) {
    CommandLine result;
    result.options = defaults;
    std::string level = level_names[static_cast<int>(defaults.log_level)];
    unsigned port = defaults.port;
    unsigned threads = defaults.threads != 0 ? defaults.threads : usable_cpus();

    po::options_description desc("Options");
    desc.add_options()("help", "print this help and exit")(
        "host", po::value<std::string>(&result.options.host)->default_value(defaults.host),
        "address to listen on")("port", po::value<unsigned>(&port)->default_value(port),
                                "port to listen on (0 picks a free port)")(
        "threads", po::value<unsigned>(&threads)->default_value(threads),
        "worker threads, one event loop each (0: one per CPU this process may use)")(
        "log-level", po::value<std::string>(&level)->default_value(level),
        "trace|debug|info|warn|error|off")(
        "tls-cert",
        po::value<std::string>(&result.options.tls.certificate.cert_file)->value_name("FILE"),
        "serve HTTPS and WSS with this PEM certificate (and its chain); needs --tls-key")(
        "tls-key",
        po::value<std::string>(&result.options.tls.certificate.key_file)->value_name("FILE"),
        "the PEM private key of --tls-cert")(
        "reuse-port", po::bool_switch(&result.options.reuse_port),
        "listen beside the processes already on the port (a rolling restart: then stop the old "
        "one)");
    po::options_description app_desc("App options");
    for (const auto& flag : flags) {
        add_app_flag(app_desc, flag);
    }
    std::ostringstream usage;
    usage << "usage: " << (argc > 0 ? argv[0] : "app") << " [options]\n" << desc;
    if (!flags.empty()) {
        usage << app_desc;
    }
    if (!env_prefix.empty()) {
        usage << "A flag not given may be set by the environment variable " << env_prefix
              << "<FLAG> (upper case, '_' for '-'): " << env_name(env_prefix, "log-level")
              << "=debug.\n";
    }
    result.usage = usage.str();

    // Words that are not flags are collected here, to be refused by name: every option of
    // an app is a --flag, and a stray word is a typo that must not pass silently.
    std::vector<std::string> stray;
    po::options_description hidden;
    hidden.add_options()("stray", po::value<std::vector<std::string>>(&stray));
    po::options_description all;
    all.add(desc).add(app_desc).add(hidden);
    po::positional_options_description positional;
    positional.add("stray", -1);
    for (const auto& flag : flags) {
        *flag.given = false;
    }
    try {
        po::variables_map vm;
        po::store(po::command_line_parser(argc, argv).options(all).positional(positional).run(),
                  vm);
        if (!env_prefix.empty()) {
            // After the command line: po::store keeps values already stored, so a flag given
            // on the command line wins over its variable.
            po::options_description named;
            named.add(desc).add(app_desc);
            // A list flag's variable is split on commas below; the parser would keep it whole.
            auto is_list = [&flags](const std::string& name) {
                return std::any_of(flags.begin(), flags.end(), [&name](const FlagSpec& f) {
                    return f.name == name && f.kind == FlagKind::list;
                });
            };
            po::store(
                po::parse_environment(named,
                                      [&env_prefix, &named, &is_list](const std::string& variable) {
                                          for (const auto& option : named.options()) {
                                              const std::string& name = option->long_name();
                                              if (name != "help" && !is_list(name) &&
                                                  env_name(env_prefix, name) == variable) {
                                                  return name;
                                              }
                                          }
                                          return std::string();
                                      }),
                vm);
        }
        po::notify(vm);
        for (const auto& flag : flags) {
            if (flag.kind != FlagKind::list || env_prefix.empty() || vm.count(flag.name) != 0) {
                continue;
            }
            const char* value = std::getenv(env_name(env_prefix, flag.name).c_str());
            if (value == nullptr) {
                continue;
            }
            auto* target = static_cast<std::vector<std::string>*>(flag.value.get());
            target->clear();
            for_each_list_item(value, [target](std::string_view item) {
                target->emplace_back(item);
                return false;
            });
            *flag.given = true;
        }
        result.help = vm.count("help") != 0;
        for (const auto& flag : flags) {
            *flag.given = *flag.given || (vm.count(flag.name) != 0 && !vm[flag.name].defaulted());
        }
    } catch (const po::error& e) {
        result.error = e.what();
        return result;
    }
    if (!stray.empty()) {
        result.error = "unexpected argument '" + stray.front() + "': options are --flags";
        return result;
    }
    for (const auto& flag : flags) {
        if (!flag.check) {
            continue;
        }
        if (std::string why = flag.check(); !why.empty()) {
            result.error = "the argument for option '--" + flag.name + "' is invalid: " + why;
            return result;
        }
    }
    const auto& tls = result.options.tls.certificate;
    if (tls.cert_file.empty() != tls.key_file.empty()) {
        result.error = tls.cert_file.empty() ? "--tls-key '" + tls.key_file + "' needs --tls-cert"
                                             : "--tls-cert '" + tls.cert_file + "' needs --tls-key";
        return result;
    }
    if (port > 65535) {
        result.error =
            "the argument ('" + std::to_string(port) + "') for option '--port' is invalid";
        return result;
    }
    if (threads == 0) {
        threads = usable_cpus();  // as ServerOptions::threads = 0
    }
    if (threads > 1024) {
        result.error = "the argument for option '--threads' must be between 0 and 1024";
        return result;
    }
    bool known = false;
    for (std::size_t i = 0; i < level_names.size(); ++i) {
        if (level == level_names[i]) {
            result.options.log_level = static_cast<LogLevel>(i);
            known = true;
        }
    }
    if (!known) {
        result.error = "the argument ('" + level + "') for option '--log-level' is invalid";
        return result;
    }
    result.options.port = static_cast<std::uint16_t>(port);
    result.options.threads = threads;
    return result;
}

}  // namespace flamecpp::detail
