// The notes app: a small JSON API with a cookie session and a live WebSocket, built so that
// its tests (test/notes_test.cpp) can serve it with flamecpp::testing::TestClient.
#pragma once

#include <flamecpp/app.hpp>

namespace notes {

/// Every route, component and limit of the app. main() runs it; the tests serve it.
flamecpp::App make_app();

}  // namespace notes
