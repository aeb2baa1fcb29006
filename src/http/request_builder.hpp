#pragma once

#include <string_view>

#include <flamecpp/request.hpp>

namespace flamecpp::detail {

/// Fills a Request: the only code that writes its private fields (the HTTP session does,
/// and unit tests do).
class RequestBuilder {
public:
    explicit RequestBuilder(Request& request) noexcept : r_(request) {}

    void reset() noexcept {
        r_.headers_.clear();
        r_.path_params_.clear();
        r_.body_ = {};
        r_.route_ = {};
        r_.session_.reset();
    }
    void set_start(Method method,
                   std::string_view method_name,
                   std::string_view target,
                   unsigned version) noexcept {
        r_.method_ = method;
        r_.method_name_ = method_name;
        r_.target_ = target;
        r_.version_ = version;
        auto q = target.find('?');
        r_.raw_path_ = target.substr(0, q);
        r_.query_string_ = q == std::string_view::npos ? std::string_view{} : target.substr(q + 1);
        auto hash = r_.query_string_.find('#');  // a fragment never belongs to the query
        if (hash != std::string_view::npos) {
            r_.query_string_ = r_.query_string_.substr(0, hash);
        }
    }
    void add_header(std::string_view name, std::string_view value) {
        r_.headers_.push_back(HeaderField{name, value});
    }
    std::vector<HeaderField>& headers() noexcept { return r_.headers_; }
    std::vector<PathParam>& path_params() noexcept { return r_.path_params_; }
    void set_keep_alive(bool keep_alive) noexcept { r_.keep_alive_ = keep_alive; }
    void set_body(std::string_view body) noexcept { r_.body_ = body; }
    void set_client(std::string_view client) noexcept { r_.client_ = client; }
    /// `scheme` must outlive the request (the session passes a string literal).
    void set_scheme(std::string_view scheme) noexcept { r_.scheme_ = scheme; }
    void clear_session() noexcept { r_.session_.reset(); }
    void set_app(const App* app) noexcept { r_.app_ = app; }
    void set_route(std::string_view route) noexcept { r_.route_ = route; }

    /// Makes this request a deep copy of `src`, its bytes in `storage` (which must not change
    /// while the copy is used).
    void copy_from(const Request& src, std::string& storage) {
        std::size_t total = src.method_name_.size() + src.target_.size() + src.body_.size() +
                            src.client_.size() + src.route_.size();
        for (const auto& h : src.headers_) total += h.name.size() + h.value.size();
        for (const auto& p : src.path_params_) total += p.name.size() + p.value.size();
        storage.clear();
        storage.reserve(total);  // no reallocation below: the views stay valid
        auto keep = [&storage](std::string_view v) {
            auto start = storage.size();
            storage.append(v);
            return std::string_view(storage).substr(start, v.size());
        };
        reset();
        set_start(src.method_, keep(src.method_name_), keep(src.target_), src.version_);
        r_.keep_alive_ = src.keep_alive_;
        for (const auto& h : src.headers_) add_header(keep(h.name), keep(h.value));
        for (const auto& p : src.path_params_) {
            r_.path_params_.push_back(PathParam{keep(p.name), keep(p.value)});
        }
        r_.body_ = keep(src.body_);
        r_.client_ = keep(src.client_);
        r_.scheme_ = src.scheme_;  // a string literal
        r_.session_ = src.session_;
        r_.app_ = src.app_;
        r_.route_ = keep(src.route_);
    }

private:
    Request& r_;
};

}  // namespace flamecpp::detail
