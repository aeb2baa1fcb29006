#include "app/exceptions.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <utility>

#include "app/components.hpp"
#include "json_detail_response.hpp"

namespace flamecpp::detail {
namespace {

/// True when type `a` derives from type `b` (or is it).
bool derives_from(const ExceptionType& a, const ExceptionType& b) noexcept {
    return b.catches_pointer(a.pointer());
}

Task<Response> call(const ExceptionHandlerEntry& entry, CallContext ctx, const void* object) {
    ctx.exception = object;
    if (entry.needs_components && !prepare_components_now(ctx, entry.components)) {
        co_await prepare_components(ctx, entry.components);
    }
    Response out;
    if (!entry.handler->call_sync(ctx, out)) {
        co_await entry.handler->call_async(ctx, out);
    }
    co_return out;
}

constexpr const ExceptionType& http_type = exception_type<HTTPException>;

Response internal_error() {
    return Response::text("Internal Server Error", Status::internal_server_error);
}

}  // namespace

ExceptionHandlerEntry type_entry(std::string_view kind,
                                 const ExceptionType& type,
                                 Requirements requirements) {
    ExceptionHandlerEntry entry;
    entry.components = components_of(requirements);
    entry.name = std::string(kind) + " for " + type_name(type.type);
    entry.type = type;
    return entry;
}

ExceptionHandlerEntry status_entry(std::string_view kind,
                                   Status status,
                                   Requirements requirements) {
    ExceptionHandlerEntry entry;
    entry.components = components_of(requirements);
    entry.name = std::string(kind) + " for status " + std::to_string(static_cast<unsigned>(status));
    entry.status = status;
    return entry;
}

void ExceptionHandlers::add_type(ExceptionHandlerEntry entry) {
    for (const auto& other : by_type_) {
        if (*other.type.type == *entry.type.type) {
            throw std::invalid_argument("flamecpp: " + entry.name + " is registered twice");
        }
    }
    // Before the first registered type it derives from: then the first match, in order, is
    // the most derived one. No later entry can derive from it (it would derive from that
    // earlier type too, and so stand before it).
    auto at = std::find_if(by_type_.begin(), by_type_.end(), [&](const ExceptionHandlerEntry& e) {
        return derives_from(entry.type, e.type);
    });
    by_type_.insert(at, std::move(entry));
}

void ExceptionHandlers::add_status(ExceptionHandlerEntry entry) {
    if (for_status(entry.status) != nullptr) {
        throw std::invalid_argument("flamecpp: " + entry.name + " is registered twice");
    }
    by_status_.push_back(std::move(entry));
}

const ExceptionHandlerEntry* ExceptionHandlers::for_status(Status status) const noexcept {
    for (const auto& entry : by_status_) {
        if (entry.status == status) {
            return &entry;
        }
    }
    return nullptr;
}

const ExceptionHandlerEntry* ExceptionHandlers::for_exception(const std::exception_ptr& error,
                                                              const void*& object) const noexcept {
    for (const auto& entry : by_type_) {
        if (const void* found = entry.type.match(error)) {
            object = found;
            return &entry;
        }
    }
    return nullptr;
}

void ExceptionHandlers::validate(const std::vector<ComponentSlot>& slots) {
    for (auto* list : {&by_type_, &by_status_}) {
        for (auto& entry : *list) {
            entry.needs_components =
                validate_needs(entry.components, slots, entry.name).any_factory;
        }
    }
}

std::exception_ptr as_exception(Response own) {
    HTTPException::Headers headers(own.headers().begin(), own.headers().end());
    return std::make_exception_ptr(
        HTTPException(own.status(), std::move(own.body()), std::move(headers)));
}

Response default_answer(const HTTPException& error) {
    Response response = json_detail_response(error.status(), error.detail());
    for (const auto& [name, value] : error.headers()) {
        response.with_header(name, value);
    }
    return response;
}

namespace {

const ExceptionHandlerEntry* for_status(HandlerChain chain, Status status) noexcept {
    for (const ExceptionHandlers* set : chain) {
        if (const ExceptionHandlerEntry* entry = set->for_status(status)) {
            return entry;
        }
    }
    return nullptr;
}

const ExceptionHandlerEntry* for_exception(HandlerChain chain,
                                           const std::exception_ptr& error,
                                           const void*& object) noexcept {
    for (const ExceptionHandlers* set : chain) {
        if (const ExceptionHandlerEntry* entry = set->for_exception(error, object)) {
            return entry;
        }
    }
    return nullptr;
}

}  // namespace

bool chain_handles_status(HandlerChain chain, Status status) noexcept {
    for (const ExceptionHandlers* set : chain) {
        if (set->handles_status(status)) {
            return true;
        }
    }
    return false;
}

Task<Response> answer_exception(HandlerChain handlers,
                                const CallContext& ctx,
                                std::exception_ptr error,
                                std::string_view who,
                                ErrorLog& log) {
    const ExceptionHandlerEntry* entry = nullptr;
    const void* object = nullptr;
    const HTTPException* http = nullptr;
    try {
        std::rethrow_exception(error);
    } catch (const HTTPException& e) {
        http = &e;
    } catch (...) {
    }
    std::exception_ptr late;
    try {
        if (http != nullptr) {
            // Set by set, innermost first: the handler for its status, else one for its class
            // (or a subclass's), not a catch-all for std::exception, whose default answer is
            // less specific than the HTTPException's own.
            for (const ExceptionHandlers* set : handlers) {
                entry = set->for_status(http->status());
                if (entry != nullptr) {
                    co_return co_await call(*entry, ctx, http);
                }
                entry = set->for_exception(error, object);
                if (entry != nullptr && derives_from(entry->type, http_type)) {
                    co_return co_await call(*entry, ctx, object);
                }
            }
            entry = nullptr;
            co_return default_answer(*http);
        }
        entry = for_exception(handlers, error, object);
        if (entry != nullptr) {
            co_return co_await call(*entry, ctx, object);
        }
        log.unhandled(who, error);
        entry = for_status(handlers, Status::internal_server_error);
        if (entry != nullptr) {
            const HTTPException server_error(Status::internal_server_error);
            co_return co_await call(*entry, ctx, &server_error);
        }
        co_return internal_error();
    } catch (...) {
        late = std::current_exception();
    }
    log.unhandled(entry != nullptr ? std::string_view(entry->name) : who, late);
    co_return internal_error();
}

}  // namespace flamecpp::detail
