#pragma once

/// @file
/// The public API of flamecpp, kept cheap to include: standard headers and
/// <boost/asio/awaitable.hpp> only. Include the rest where it is used: JSON answers
/// (<flamecpp/json.hpp>), JSON bodies (<flamecpp/body.hpp>), forms (<flamecpp/forms.hpp>),
/// streamed request bodies (<flamecpp/body_reader.hpp>) and testing (<flamecpp/testing.hpp>).

#include <flamecpp/app.hpp>
#include <flamecpp/blocking.hpp>
#include <flamecpp/broadcast.hpp>
#include <flamecpp/builtin_middleware.hpp>
#include <flamecpp/endpoints.hpp>
#include <flamecpp/http_exception.hpp>
#include <flamecpp/limits.hpp>
#include <flamecpp/log.hpp>
#include <flamecpp/method.hpp>
#include <flamecpp/request.hpp>
#include <flamecpp/response.hpp>
#include <flamecpp/routing.hpp>
#include <flamecpp/security.hpp>
#include <flamecpp/server.hpp>
#include <flamecpp/sessions.hpp>
#include <flamecpp/static_files.hpp>
#include <flamecpp/status.hpp>
#include <flamecpp/streaming.hpp>
#include <flamecpp/task.hpp>
#include <flamecpp/tasks.hpp>
