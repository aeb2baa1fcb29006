#include "app/cli.hpp"

#include <array>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/program_options.hpp>

#include "cpus.hpp"

namespace flamecpp::detail {
namespace po = boost::program_options;

namespace {
constexpr std::array<const char*, 6> level_names{"trace", "debug", "info", "warn", "error", "off"};
}

CommandLine parse_command_line(int argc, char** argv, const ServerOptions& defaults) {
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
        "trace|debug|info|warn|error|off");
    std::ostringstream usage;
    usage << "usage: " << (argc > 0 ? argv[0] : "app") << " [options]\n" << desc;
    result.usage = usage.str();

    // Words that are not flags are collected here, to be refused by name: every option of
    // an app is a --flag, and a stray word is a typo that must not pass silently.
    std::vector<std::string> stray;
    po::options_description hidden;
    hidden.add_options()("stray", po::value<std::vector<std::string>>(&stray));
    po::options_description all;
    all.add(desc).add(hidden);
    po::positional_options_description positional;
    positional.add("stray", -1);
    try {
        po::variables_map vm;
        po::store(po::command_line_parser(argc, argv).options(all).positional(positional).run(),
                  vm);
        po::notify(vm);
        result.help = vm.count("help") != 0;
    } catch (const po::error& e) {
        result.error = e.what();
        return result;
    }
    if (!stray.empty()) {
        result.error = "unexpected argument '" + stray.front() + "': options are --flags";
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
