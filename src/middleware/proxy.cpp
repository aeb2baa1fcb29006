#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/network_v4.hpp>
#include <boost/asio/ip/network_v6.hpp>

#include <flamecpp/builtin_middleware.hpp>

#include "text/ascii.hpp"

namespace flamecpp {

namespace ip = boost::asio::ip;

Task<Response> HTTPSRedirect::operator()(Request& request, Next next) const {
    if (request.scheme() == "https") {
        co_return co_await next();
    }
    const auto host = request.header("Host");
    if (!host || !detail::valid_host(*host)) {
        co_return Response::text("Invalid host header", Status::bad_request);
    }
    std::string_view authority = *host;
    if (authority.ends_with(":80")) {
        authority.remove_suffix(3);  // http's default port is not https's
    }
    std::string location = "https://";
    location.append(authority).append(request.target());
    co_return Response::redirect(std::move(location), Status::temporary_redirect);
}

/// The trusted proxies, parsed once by Boost.Asio's address and network parsers.
struct ProxyHeaders::Trusted {
    bool any = false;
    std::vector<ip::address> addresses;
    std::vector<ip::network_v4> networks_v4;
    std::vector<ip::network_v6> networks_v6;

    bool contains(std::string_view text) const noexcept {
        if (any) {
            return true;
        }
        if (text.starts_with('[') && text.ends_with(']')) {
            text = text.substr(1, text.size() - 2);
        }
        boost::system::error_code ec;
        ip::address address = ip::make_address(text, ec);
        if (ec) {
            return false;
        }
        if (address.is_v6() && address.to_v6().is_v4_mapped()) {
            address = ip::make_address_v4(ip::v4_mapped, address.to_v6());
        }
        for (const auto& a : addresses) {
            if (a == address) {
                return true;
            }
        }
        if (address.is_v4()) {
            const auto v4 = address.to_v4();
            for (const auto& n : networks_v4) {
                if (ip::network_v4(v4, n.prefix_length()).network() == n.network()) {
                    return true;
                }
            }
        } else {
            const auto v6 = address.to_v6();
            for (const auto& n : networks_v6) {
                if (ip::network_v6(v6, n.prefix_length()).network() == n.network()) {
                    return true;
                }
            }
        }
        return false;
    }
};

ProxyHeaders::ProxyHeaders(const std::vector<std::string>& trusted) {
    auto parsed = std::make_shared<Trusted>();
    for (const auto& entry : trusted) {
        boost::system::error_code ec;
        if (entry == "*") {
            parsed->any = true;
        } else if (entry.find('/') != std::string::npos) {
            if (entry.find(':') != std::string::npos) {
                parsed->networks_v6.push_back(ip::make_network_v6(entry, ec));
            } else {
                parsed->networks_v4.push_back(ip::make_network_v4(entry, ec));
            }
        } else {
            parsed->addresses.push_back(ip::make_address(entry, ec));
        }
        if (ec) {
            throw std::invalid_argument("flamecpp: ProxyHeaders: '" + entry +
                                        "' is not an IP address, a network or '*'");
        }
    }
    trusted_ = std::move(parsed);
}

bool ProxyHeaders::trusts(std::string_view address) const noexcept {
    return trusted_->contains(address);
}

namespace {

/// The address part of client() (`ADDR:PORT`; IPv6 addresses are not bracketed).
std::string_view address_of(std::string_view client) noexcept {
    const auto colon = client.rfind(':');
    return colon == std::string_view::npos ? client : client.substr(0, colon);
}

}  // namespace

Task<Response> ProxyHeaders::operator()(Request& request, Next next) const {
    if (!trusted_->contains(address_of(request.client()))) {
        co_return co_await next();
    }
    // Every field line, in order (RFC 9110 5.3: several lines are one comma-separated list): a
    // proxy may append a line of its own after the client's.
    auto items_of = [&request](std::string_view field) {
        std::vector<std::string_view> items;
        for (const HeaderField& h : request.headers()) {
            if (detail::iequals(h.name, field)) {
                detail::for_each_list_item(h.value, [&items](std::string_view item) {
                    items.push_back(item);
                    return false;
                });
            }
        }
        return items;
    };
    if (const auto protos = items_of("X-Forwarded-Proto"); !protos.empty()) {
        // The nearest proxy's word: the client may have sent a value of its own before it.
        request.set_scheme(protos.back());  // a value other than http(s)/ws(s) is ignored
    }
    if (const auto hops = items_of("X-Forwarded-For"); !hops.empty()) {
        // Right to left: the proxies this request went through, nearest last. The first one
        // that is not a trusted proxy is the client; if all are, the leftmost is.
        std::string_view client;
        for (std::size_t i = hops.size(); i-- > 0;) {
            client = hops[i];
            if (!trusted_->contains(hops[i])) {
                break;
            }
        }
        boost::system::error_code ec;
        const auto address = ip::make_address(client, ec);
        if (!ec) {  // anything but an address (a name, "unknown", garbage) is not believed
            request.set_client(address.to_string() + ":0");
        }
    }
    co_return co_await next();
}

}  // namespace flamecpp
