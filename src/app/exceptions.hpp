#pragma once

// The app's exception handlers and the answer for an exception: a registered handler's (by
// the HTTPException's status, or by the most derived registered type), else the default.

#include <exception>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <flamecpp/detail/components.hpp>
#include <flamecpp/detail/exception_handler.hpp>
#include <flamecpp/detail/handler.hpp>
#include <flamecpp/response.hpp>
#include <flamecpp/status.hpp>

namespace flamecpp::detail {

/// One registered exception handler.
struct ExceptionHandlerEntry {
    std::unique_ptr<RouteHandler> handler;
    std::unique_ptr<CloseChooser> closer;  ///< instead of `handler`, for WebSocket routes
    std::vector<ComponentRequirement> components;
    std::string name;               ///< "the exception handler for ...", for errors and logs
    ExceptionType type;             ///< by type; unset for a status handler
    Status status = Status::ok;     ///< by status
    bool needs_components = false;  ///< set when the server starts
};

/// An entry for a handler of exception `type` (its handler or closer still to set), named
/// "`kind` for <the type>" in errors and logs.
ExceptionHandlerEntry type_entry(std::string_view kind,
                                 const ExceptionType& type,
                                 Requirements requirements);
/// An entry for the handler of `status`, named "`kind` for status N".
ExceptionHandlerEntry status_entry(std::string_view kind, Status status, Requirements requirements);

/// Where an exception nobody handles is logged and reported (the session).
class ErrorLog {
public:
    /// `who` ("handler", "a middleware", an exception handler's name) threw `error`.
    virtual void unhandled(std::string_view who, const std::exception_ptr& error) noexcept = 0;

protected:
    ~ErrorLog() = default;
};

class ExceptionHandlers {
public:
    bool empty() const noexcept { return by_type_.empty() && by_status_.empty(); }

    /// Throws std::invalid_argument when `status` or the type already has a handler.
    void add_type(ExceptionHandlerEntry entry);
    void add_status(ExceptionHandlerEntry entry);

    const ExceptionHandlerEntry* for_status(Status status) const noexcept;
    /// True when an error status (400 and up) has a handler.
    bool handles_status(Status status) const noexcept {
        return !by_status_.empty() && static_cast<unsigned>(status) >= 400 &&
               for_status(status) != nullptr;
    }
    /// The handler of the most derived registered type that `error` is; `object` is then
    /// the thrown object.
    const ExceptionHandlerEntry* for_exception(const std::exception_ptr& error,
                                               const void*& object) const noexcept;

    /// Checks the components of every handler before the server listens.
    void validate(const std::vector<ComponentSlot>& slots);

private:
    std::vector<ExceptionHandlerEntry> by_type_;  ///< no entry derives from a later one
    std::vector<ExceptionHandlerEntry> by_status_;
};

/// The app's answer for `error`, thrown while serving `ctx.request` by `who` (each step tries
/// the sets of `handlers` in order, the first that has a handler making the answer):
/// - an HTTPException: the handler for its status, else one for its type, else the default
///   `{"detail"}` answer with the exception's headers;
/// - another exception: the handler for its type; else it is logged (`log`), then the
///   handler for 500, else the default 500.
/// An exception handler that throws is logged, and the answer is the default 500.
/// The handler sets an error tries in turn: a mount's, its ancestors', then the app's.
using HandlerChain = std::span<const ExceptionHandlers* const>;

/// True when any set of `chain` has a handler for `status` (an error status).
bool chain_handles_status(HandlerChain chain, Status status) noexcept;

Task<Response> answer_exception(HandlerChain handlers,
                                const CallContext& ctx,
                                std::exception_ptr error,
                                std::string_view who,
                                ErrorLog& log);

/// The app's own error answer (a 404, a 405 with `Allow`) as the HTTPException a status
/// handler receives: its status, its text as the detail, its headers.
std::exception_ptr as_exception(Response own);

/// The default answer of an HTTPException: its status, `{"detail"}`, its headers.
Response default_answer(const HTTPException& error);

}  // namespace flamecpp::detail
