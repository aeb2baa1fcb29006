#include "text/percent.hpp"

#include <boost/url/encoding_opts.hpp>
#include <boost/url/pct_string_view.hpp>

namespace flamecpp::detail {

bool percent_decode_append(std::string_view in, std::string& out, bool plus_as_space) {
    auto checked = boost::urls::make_pct_string_view(in);  // rejects "%G1", "%4"
    if (!checked) {
        return false;
    }
    boost::urls::encoding_opts opts;
    opts.space_as_plus = plus_as_space;
    checked->decode(opts, boost::urls::string_token::append_to(out));
    return true;
}

std::optional<std::string> find_query_param(std::string_view query,
                                            std::string_view name,
                                            std::string_view* rest) {
    std::string key;
    while (!query.empty()) {
        auto amp = query.find('&');
        std::string_view pair = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
        auto eq = pair.find('=');
        std::string_view raw_key = pair.substr(0, eq);
        std::string_view raw_value =
            eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
        key.clear();
        if (!percent_decode_append(raw_key, key, true) || key != name) {
            continue;
        }
        std::string value;
        if (percent_decode_append(raw_value, value, true)) {
            if (rest != nullptr) {
                *rest = query;
            }
            return value;
        }
    }
    return std::nullopt;
}

}  // namespace flamecpp::detail
